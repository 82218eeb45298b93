import { array, iso, number, strictObject, string, url, uuid } from 'zod';
import type { output } from 'zod';

// What the API answers, for the OpenAPI document and the types; kept apart from the request
// schemas so that the handlers do not build them at every cold start.

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
    title: string().meta({ minLength: 1, maxLength: 32 }),
    description: string().meta({ maxLength: 32 }),
    filename: string().meta({ maxLength: 128, description: "The client's file name, cut to its last path segment" }),
    file_url: url().meta({ maxLength: 128, description: 'Where the file is fetched from' }),
    created_at: ISO_TIMESTAMP,
    updated_at: ISO_TIMESTAMP.meta({ description: 'Moves forward on every update' }),
  })
  .meta({
    id: 'Image',
    examples: [IMAGE_EXAMPLE],
  });
export type Image = output<typeof imageSchema>;

/** An error as every endpoint answers it: application/problem+json (RFC 9457). */
export const problemSchema = strictObject({
    type: string().meta({ examples: ['about:blank'] }),
    title: string().meta({ examples: ['Not Found'] }),
    status: number().int().min(400).max(599),
    detail: string(),
    errors: array(strictObject({ field: string(), message: string() }))
      .optional()
      .meta({ description: 'On a 422: every field that is wrong, and why' }),
  })
  .meta({ id: 'Problem' });
