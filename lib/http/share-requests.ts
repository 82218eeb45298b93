import { array, boolean, iso, object, strictObject, string } from 'zod';
import { ALBUM_DESCRIPTION_MAX, ALBUM_TITLE_MAX, SHARE_TOKEN_LENGTH } from '../schema';
import { MAX_IMAGE_IDS } from './album-requests';
import { codePoints, cursorParam, description, limitParam, required, STORABLE_TEXT, text, uuidParam } from './validation';

// The requests of the share endpoints: the owner's, and a viewer's.

/** The longest a share may run: a year from its making. */
export const MAX_SHARE_DAYS = 365;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export const shareIdParamsSchema = object({ id: uuidParam('The share id') });

/** A share's token in a path: whatever it is, a link to no share is a 404 (never a 422: a link is not a form). */
export const shareTokenParamsSchema = object({
  token: string(required('a token')).meta({ description: "The share's token, from its link (/s/<token>)" }),
});

/** Whether a token could be a share's (base64url, as newToken makes them): one that cannot is no share, and not looked up. */
export const isTokenShaped = (token: string): boolean => new RegExp(`^[A-Za-z0-9_-]{1,${SHARE_TOKEN_LENGTH}}$`).test(token);

/** The JSON body of POST /api/v1/shares. */
export const shareCreateSchema = strictObject(
  {
    album_id: uuidParam('An album to share, as it changes').optional(),
    image_ids: array(uuidParam('An image to share'), required('an array of image ids'))
      .min(1, 'must hold at least one id')
      .max(MAX_IMAGE_IDS, `must hold at most ${MAX_IMAGE_IDS} ids`)
      .optional(),
    title: text(ALBUM_TITLE_MAX).optional().meta({
      maxLength: ALBUM_TITLE_MAX,
      pattern: STORABLE_TEXT,
      description: "What viewers see as its title; default: the album's title, or empty",
    }),
    description: description(ALBUM_DESCRIPTION_MAX, 'Our two weeks by the sea').optional().default(''),
    expires_at: iso
      .datetime({ offset: true })
      .refine((at) => Date.parse(at) > Date.now(), 'must be in the future')
      .refine((at) => Date.parse(at) <= Date.now() + MAX_SHARE_DAYS * 24 * 3600 * 1000, `must be at most ${MAX_SHARE_DAYS} days away`)
      .optional()
      .meta({
        description: `When the link stops working (410 Gone after): RFC 3339, in the future, at most ${MAX_SHARE_DAYS} days away; unset: never`,
      }),
    password: string(required('a string'))
      .refine((s) => s.isWellFormed(), 'must be valid Unicode text')
      .refine((s) => codePoints(s) >= PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
      .refine((s) => codePoints(s) <= PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`)
      .optional()
      .meta({
        minLength: PASSWORD_MIN,
        maxLength: PASSWORD_MAX,
        pattern: '^[^\\uD800-\\uDFFF]*$',
        description: 'Viewers must give it to see anything (stored as scrypt, never shown again)',
      }),
    allow_originals: boolean({ error: 'must be true or false' }).optional().default(false),
  },
  { error: 'must be a JSON object' },
)
  .refine((s) => (s.album_id === undefined) !== (s.image_ids === undefined), {
    message: 'give exactly one of album_id and image_ids',
    path: ['album_id'],
  })
  .meta({
    id: 'ShareCreate',
    description: 'Exactly one of album_id and image_ids',
    oneOf: [{ required: ['album_id'] }, { required: ['image_ids'] }],
    examples: [{ image_ids: ['530918e4-2d9a-49a7-931e-fb5e18228cc1'], title: 'Holidays', password: 'correct horse' }],
  });

/** The query of the owner's list of shares. */
export const sharesQuerySchema = object({ limit: limitParam, cursor: cursorParam });

/** The JSON body of POST /api/v1/shared/{token}/unlock. */
export const unlockSchema = strictObject(
  { password: string(required('a string')).max(1024, "is not this share's").meta({ description: "The share's password" }) },
  { error: 'must be a JSON object' },
).meta({ id: 'Unlock', examples: [{ password: 'correct horse' }] });
