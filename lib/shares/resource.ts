import type { output } from 'zod';
import { boolean, int, iso, strictObject, string, uuid } from 'zod';
import { imageSchema } from '../images/resource';
import { ALBUM_DESCRIPTION_MAX, ALBUM_TITLE_MAX } from '../schema';

// A share link as its owner sees it, what a viewer sees of it, and an image as a viewer gets it: types
// for the code and zod schemas for the OpenAPI document (only the document builds the schemas).

const ISO_TIMESTAMP = iso.datetime({ offset: true, precision: 6 });

export const SHARE_EXAMPLE = {
  id: '0c1f3e5a-7b9d-4f2e-8a6c-1d3e5f7a9b2c',
  url: '/s/q3VXk8Yw2n0m_Fz7HcRp1A',
  token: 'q3VXk8Yw2n0m_Fz7HcRp1A',
  album_id: null,
  image_ids: ['530918e4-2d9a-49a7-931e-fb5e18228cc1'],
  title: 'Holidays',
  description: '',
  expires_at: null,
  has_password: true,
  allow_originals: false,
  image_count: 1,
  created_at: '2026-12-05T10:00:00.000000+00:00',
};

export const shareSchema = strictObject({
  id: uuid(),
  url: string().meta({ description: 'The link to hand out: the read-only gallery of the share, on this service' }),
  token: string()
    .regex(/^[A-Za-z0-9_-]{22,}$/)
    .meta({ description: '128 random bits, base64url: the share itself, as its link carries it' }),
  album_id: uuid().nullable().meta({ description: 'The album it shows, as the album changes; null for a set of images' }),
  image_ids: string().array().nullable().meta({ description: 'The images it shows (those still there); null for an album' }),
  title: string().meta({ maxLength: ALBUM_TITLE_MAX }),
  description: string().meta({ maxLength: ALBUM_DESCRIPTION_MAX }),
  expires_at: ISO_TIMESTAMP.nullable().meta({ description: 'After this, viewers get 410 Gone; null: never' }),
  has_password: boolean(),
  allow_originals: boolean().meta({ description: 'Whether viewers get the originals (file_url), not only the copies' }),
  image_count: int().min(0),
  created_at: ISO_TIMESTAMP,
}).meta({ id: 'Share', examples: [SHARE_EXAMPLE] });
export type Share = output<typeof shareSchema>;

export const SHARED_EXAMPLE = { title: 'Holidays', description: '', expires_at: null, image_count: 3, allow_originals: false };

/** What a viewer of a link sees of the share. */
export const sharedSchema = strictObject({
  title: string(),
  description: string(),
  expires_at: ISO_TIMESTAMP.nullable(),
  image_count: int().min(0),
  allow_originals: boolean(),
}).meta({ id: 'Shared', examples: [SHARED_EXAMPLE] });
export type Shared = output<typeof sharedSchema>;

/** An image as a viewer of a share gets it: no sha256, and file_url only when the share allows originals. */
export const sharedImageSchema = imageSchema
  .omit({ sha256: true })
  .extend({ file_url: imageSchema.shape.file_url.nullable().meta({ description: 'The original; null unless the share allows originals' }) })
  .meta({ id: 'SharedImage' });

/** The answer of POST /api/v1/shared/{token}/unlock. */
export const unlockedSchema = strictObject({
  access_token: string().meta({ description: 'Send it as Authorization: Bearer on the viewer requests of this share' }),
  expires_at: ISO_TIMESTAMP,
}).meta({ id: 'Unlocked', examples: [{ access_token: 'eyJzIjoi…', expires_at: '2026-12-05T22:00:00.000000+00:00' }] });
