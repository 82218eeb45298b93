import type { output } from 'zod';
import { int, iso, strictObject, string, url, uuid } from 'zod';
import { ALBUM_DESCRIPTION_MAX, ALBUM_TITLE_MAX } from '../schema';

// The album resource: what the albums capability returns and the API answers, as a type for the code
// and a zod schema for the OpenAPI document (only the document builds the schema).

/** An album as the API returns it: the document's example, and the tests' sample. */
export const ALBUM_EXAMPLE = {
  id: 'a6f0d3c2-1b4e-4c8a-9d7f-2e5b8c1a0f93',
  title: 'Summer',
  description: 'Two weeks by the sea',
  image_count: 12,
  cover: {
    image_id: '530918e4-2d9a-49a7-931e-fb5e18228cc1',
    thumb: { url: 'http://127.0.0.1:4569/photo-gallery/variants/530918e4-2d9a-49a7-931e-fb5e18228cc1/thumb.webp', width: 400, height: 300 },
  },
  created_at: '2026-12-01T09:12:44.120391+00:00',
  updated_at: '2026-12-03T17:40:02.518004+00:00',
};

const ISO_TIMESTAMP = iso.datetime({ offset: true, precision: 6 });

export const albumSchema = strictObject({
  id: uuid(),
  title: string().meta({ minLength: 1, maxLength: ALBUM_TITLE_MAX }),
  description: string().meta({ maxLength: ALBUM_DESCRIPTION_MAX }),
  image_count: int().min(0).meta({ description: 'How many images it holds now' }),
  cover: strictObject({
    image_id: uuid(),
    thumb: strictObject({ url: url(), width: int().min(1), height: int().min(1) })
      .nullable()
      .meta({ description: "The cover's thumbnail; null until its variants are made" }),
  })
    .nullable()
    .meta({ description: 'The image the owner chose (cover_image_id), else the newest uploaded; null for an empty album' }),
  created_at: ISO_TIMESTAMP,
  updated_at: ISO_TIMESTAMP.meta({ description: 'Moves forward on every change: its fields, its images' }),
}).meta({ id: 'Album', examples: [ALBUM_EXAMPLE] });
export type Album = output<typeof albumSchema>;
