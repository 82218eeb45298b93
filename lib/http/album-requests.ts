import { array, object, strictObject } from 'zod';
import { ALBUM_DESCRIPTION_MAX, ALBUM_TITLE_MAX } from '../schema';
import { cursorParam, description, limitParam, required, title, uuidParam } from './validation';

// The requests of the album endpoints: bodies, path parameters and list queries.

export const albumTitleSchema = title(ALBUM_TITLE_MAX, 'Summer');
export const albumDescriptionSchema = description(ALBUM_DESCRIPTION_MAX, 'Two weeks by the sea');

/** The most images one request adds to an album, removes from it, or shares. */
export const MAX_IMAGE_IDS = 500;

export const albumIdParamsSchema = object({ id: uuidParam('The album id') });

/** The JSON body of POST /api/v1/albums: a title, and a description (empty unless given). */
export const albumCreateSchema = strictObject(
  { title: albumTitleSchema, description: albumDescriptionSchema.optional().default('') },
  { error: 'must be a JSON object' },
).meta({ id: 'AlbumCreate', examples: [{ title: 'Summer', description: 'Two weeks by the sea' }] });

/** The JSON body of PATCH /api/v1/albums/{id}: any of title, description and cover_image_id. */
export const albumPatchSchema = strictObject(
  {
    title: albumTitleSchema.optional(),
    description: albumDescriptionSchema.optional(),
    cover_image_id: uuidParam('An image of the album, shown as its cover; null: its newest image').nullable().optional(),
  },
  { error: 'must be a JSON object' },
)
  .refine((p) => p.title !== undefined || p.description !== undefined || p.cover_image_id !== undefined, {
    message: 'at least one of title, description and cover_image_id is required',
  })
  .meta({ id: 'AlbumPatch', minProperties: 1, examples: [{ title: 'Summer 2026', cover_image_id: null }] });

/** `{"image_ids":[…]}`: 1 to 500 image ids. */
export const imageIdsSchema = strictObject(
  {
    image_ids: array(uuidParam('An image id'), required('an array of image ids'))
      .min(1, 'must hold at least one id')
      .max(MAX_IMAGE_IDS, `must hold at most ${MAX_IMAGE_IDS} ids`),
  },
  { error: 'must be a JSON object' },
).meta({ id: 'ImageIds', examples: [{ image_ids: ['530918e4-2d9a-49a7-931e-fb5e18228cc1'] }] });

/** The query of a list of albums or shares: limit and cursor. */
export const pageQuerySchema = object({ limit: limitParam, cursor: cursorParam });
