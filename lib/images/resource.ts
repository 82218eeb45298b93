import { iso, strictObject, string, url, uuid } from 'zod';
import type { output } from 'zod';
import { DESCRIPTION_MAX, FILE_URL_MAX, FILENAME_MAX, TITLE_MAX } from '../schema';

// The image resource: what the domain returns and the API answers, as a type for the code and a
// zod schema for the OpenAPI document (only the document builds the schema: no handler's cold start
// pays for it).

/** An image as the API returns it: the document's example, and the tests' sample. */
export const IMAGE_EXAMPLE = {
  id: '530918e4-2d9a-49a7-931e-fb5e18228cc1',
  title: 'My title',
  description: 'Short desc',
  filename: 'cat.jpg',
  file_url: 'http://127.0.0.1:4569/photo-gallery/images/530918e4-2d9a-49a7-931e-fb5e18228cc1.jpg',
  created_at: '2026-11-26T18:34:11.098123+00:00',
  updated_at: '2026-11-26T18:34:11.098123+00:00',
};

const ISO_TIMESTAMP = iso.datetime({ offset: true, precision: 6 });

/** The image resource as the API returns it. */
export const imageSchema = strictObject({
    id: uuid(),
    title: string().meta({ minLength: 1, maxLength: TITLE_MAX }),
    description: string().meta({ maxLength: DESCRIPTION_MAX }),
    filename: string().meta({ maxLength: FILENAME_MAX, description: "The client's file name, cut to its last path segment" }),
    file_url: url().meta({ maxLength: FILE_URL_MAX, description: 'Where the file is fetched from' }),
    created_at: ISO_TIMESTAMP,
    updated_at: ISO_TIMESTAMP.meta({ description: 'Moves forward on every update' }),
  })
  .meta({
    id: 'Image',
    examples: [IMAGE_EXAMPLE],
  });
export type Image = output<typeof imageSchema>;
