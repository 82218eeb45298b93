import { albumNotFound, albumTitleTaken, coverNotInAlbum } from '../albums/errors';
import { ALBUM_EXAMPLE } from '../albums/resource';
import { ServiceUnavailableError, TooManyRequestsError, UnauthorizedError, ValidationError } from '../errors';
import { unknownImages } from '../images/errors';
import { linkExpired, linkNotFound, locked, notInShare, shareNotFound, wrongPassword } from '../shares/errors';
import { SHARE_EXAMPLE } from '../shares/resource';
import { albumIdParamsSchema, MAX_IMAGE_IDS, pageQuerySchema } from './album-requests';
import { crossSiteWrite, notJson } from './handler';
import { jsonResponse, KEYED, LINK_HEADER, pathParameter, privateRead, problem, queryParameters, ref } from './openapi-parts';
import { shareIdParamsSchema, sharesQuerySchema, shareTokenParamsSchema } from './share-requests';
import { imageIdParamsSchema, sharedListQuerySchema } from './validation';

// The albums' and the share links' part of the OpenAPI document (lib/http/openapi.ts puts it together).

const EXAMPLE_IMAGE_ID = '530918e4-2d9a-49a7-931e-fb5e18228cc1';

const common = {
  400: problem('The body cannot be parsed: not JSON, or not sent as application/json', notJson()),
  401: problem('Owner keys are configured and the request carries none of them', new UnauthorizedError()),
  403: problem("A browser sent it from another site's page (Origin or Sec-Fetch-Site), not an allowed origin", crossSiteWrite()),
  500: problem('Anything unexpected (logged with the request id)', new Error('an example')),
  503: problem('The database is unreachable', new ServiceUnavailableError('database')),
};

const invalid = (description: string, fields: { field: string; message: string }[]) => problem(description, new ValidationError(fields));

const albumId = pathParameter(albumIdParamsSchema, 'id');
const shareId = pathParameter(shareIdParamsSchema, 'id');
const token = pathParameter(shareTokenParamsSchema, 'token');
const imageId = pathParameter(imageIdParamsSchema, 'id');
const locationOf = (what: string) => ({
  Location: { description: `Where the new ${what} is`, required: true, schema: { type: 'string' } },
});
const jsonBody = (schema: string) => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });

const albumMissing = problem('No album with that id', albumNotFound(ALBUM_EXAMPLE.id));
const albumInvalid = invalid('A field is missing, too long, blank, of the wrong type or unknown, or the id is not a UUID', [
  { field: 'title', message: 'must not be blank' },
]);
const membersInvalid = problem(
  `Not 1 to ${MAX_IMAGE_IDS} image ids, or ids that name no image (each listed; nothing was changed)`,
  unknownImages([EXAMPLE_IMAGE_ID], [EXAMPLE_IMAGE_ID]),
);

/** The viewer's refusals: no share at the link, an expired one, a protected one not unlocked. */
const viewer = {
  401: problem('The share is protected and the request carries no access token to it (unlock it first)', locked()),
  404: problem('No share at this link: never made, or revoked', linkNotFound()),
  410: problem('The link has expired', linkExpired()),
};

/** The path items of the albums and the share links. */
export function collectionPaths(): Record<string, unknown> {
  return {
    '/api/v1/albums/': {
      post: {
        operationId: 'createAlbum',
        tags: ['albums'],
        summary: 'Make an album',
        security: KEYED,
        requestBody: jsonBody('AlbumCreate'),
        responses: {
          201: jsonResponse('The album', 'Album', { headers: locationOf('album') }),
          ...pick(common, 400, 401, 403),
          409: problem('The title is already taken by another album', albumTitleTaken()),
          422: albumInvalid,
          ...pick(common, 500, 503),
        },
      },
      get: {
        operationId: 'listAlbums',
        tags: ['albums'],
        summary: 'List albums, newest first, each with its count and cover',
        security: KEYED,
        parameters: queryParameters(pageQuerySchema, ['limit', 'cursor']),
        responses: {
          200: jsonResponse('A page of albums', 'Album', { array: true, headers: LINK_HEADER }),
          401: privateRead(),
          422: invalid('limit or cursor is not valid', [{ field: 'cursor', message: 'is not a valid cursor' }]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/albums/{id}': {
      parameters: [albumId],
      get: {
        operationId: 'getAlbum',
        tags: ['albums'],
        summary: 'Get an album: its count and cover as they are now',
        security: KEYED,
        responses: {
          200: jsonResponse('The album', 'Album'),
          401: privateRead(),
          404: albumMissing,
          422: invalid('The id is not a UUID', [{ field: 'id', message: 'must be a UUID' }]),
          ...pick(common, 500, 503),
        },
      },
      patch: {
        operationId: 'updateAlbum',
        tags: ['albums'],
        summary: "Change an album's title, description or cover",
        security: KEYED,
        requestBody: jsonBody('AlbumPatch'),
        responses: {
          200: jsonResponse('The album', 'Album'),
          ...pick(common, 400, 401, 403),
          404: albumMissing,
          409: problem('The title is already taken by another album', albumTitleTaken()),
          422: problem('A field is not valid, or cover_image_id is not an image of the album', coverNotInAlbum()),
          ...pick(common, 500, 503),
        },
      },
      delete: {
        operationId: 'deleteAlbum',
        tags: ['albums'],
        summary: 'Delete an album; its images stay, the links that share it stop working',
        security: KEYED,
        responses: {
          204: { description: 'Deleted' },
          ...pick(common, 401, 403),
          404: albumMissing,
          422: invalid('The id is not a UUID', [{ field: 'id', message: 'must be a UUID' }]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/albums/{id}/images': {
      parameters: [albumId],
      post: {
        operationId: 'addAlbumImages',
        tags: ['albums'],
        summary: 'Add images to an album (those in it already stay)',
        security: KEYED,
        requestBody: jsonBody('ImageIds'),
        responses: {
          200: jsonResponse('The album, with its new count', 'Album'),
          ...pick(common, 400, 401, 403),
          404: albumMissing,
          422: membersInvalid,
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/albums/{id}/images/remove': {
      parameters: [albumId],
      post: {
        operationId: 'removeAlbumImages',
        tags: ['albums'],
        summary: 'Take images out of an album (ids not in it are ignored; the images stay)',
        security: KEYED,
        requestBody: jsonBody('ImageIds'),
        responses: {
          200: jsonResponse('The album, with its new count', 'Album'),
          ...pick(common, 400, 401, 403),
          404: albumMissing,
          422: invalid(`Not 1 to ${MAX_IMAGE_IDS} image ids`, [{ field: 'image_ids', message: 'must hold at least one id' }]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/shares/': {
      post: {
        operationId: 'createShare',
        tags: ['shares'],
        summary: 'Make a share link to an album or to a set of images',
        description:
          'Whoever has the link (`url`) sees what it shares, read-only, without a key: through /s/<token> in a browser, or /api/v1/shared/<token>. ' +
          'A password keeps out whoever has only the link; expires_at ends it (410 after); DELETE revokes it (404 after).',
        security: KEYED,
        requestBody: jsonBody('ShareCreate'),
        responses: {
          201: jsonResponse('The share, with its link', 'Share', { headers: locationOf('share') }),
          ...pick(common, 400, 401, 403),
          422: problem(
            'Both or neither of album_id and image_ids, ids that name no image (each listed) or no album, or a field not valid',
            unknownImages([EXAMPLE_IMAGE_ID], [EXAMPLE_IMAGE_ID]),
          ),
          ...pick(common, 500, 503),
        },
      },
      get: {
        operationId: 'listShares',
        tags: ['shares'],
        summary: 'List the share links, newest first',
        security: KEYED,
        parameters: queryParameters(sharesQuerySchema, ['limit', 'cursor']),
        responses: {
          200: jsonResponse('A page of shares', 'Share', { array: true, headers: LINK_HEADER }),
          401: common[401],
          422: invalid('limit or cursor is not valid', [{ field: 'cursor', message: 'is not a valid cursor' }]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/shares/{id}': {
      parameters: [shareId],
      delete: {
        operationId: 'revokeShare',
        tags: ['shares'],
        summary: 'Revoke a share link: its next request is a 404',
        security: KEYED,
        responses: {
          204: { description: 'Revoked' },
          ...pick(common, 401, 403),
          404: problem('No share with that id', shareNotFound(SHARE_EXAMPLE.id)),
          422: invalid('The id is not a UUID', [{ field: 'id', message: 'must be a UUID' }]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/shared/{token}': {
      parameters: [token],
      get: {
        operationId: 'getShared',
        tags: ['shared'],
        summary: 'What a viewer sees of a share (no key: the link is the access)',
        responses: { 200: jsonResponse('The share', 'Shared'), ...viewer, ...pick(common, 500, 503) },
      },
    },
    '/api/v1/shared/{token}/images': {
      parameters: [token],
      get: {
        operationId: 'listSharedImages',
        tags: ['shared'],
        summary: "A share's images, paged and filtered as the owner's list",
        parameters: queryParameters(sharedListQuerySchema, ['limit', 'cursor', 'sort', 'q', 'taken_from', 'taken_to']),
        responses: {
          200: jsonResponse('A page of images', 'SharedImage', { array: true, headers: LINK_HEADER }),
          ...viewer,
          422: invalid('A query parameter is not valid, or the cursor was made for another list', [
            { field: 'cursor', message: 'is not a valid cursor' },
          ]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/shared/{token}/images/{id}': {
      parameters: [token, imageId],
      get: {
        operationId: 'getSharedImage',
        tags: ['shared'],
        summary: 'One image of a share',
        responses: {
          200: jsonResponse('The image', 'SharedImage'),
          401: viewer[401],
          404: problem('No share at this link, or no such image in it', notInShare(EXAMPLE_IMAGE_ID)),
          410: viewer[410],
          422: invalid('The image id is not a UUID', [{ field: 'id', message: 'must be a UUID' }]),
          ...pick(common, 500, 503),
        },
      },
    },
    '/api/v1/shared/{token}/unlock': {
      parameters: [token],
      post: {
        operationId: 'unlockShared',
        tags: ['shared'],
        summary: 'Unlock a protected share with its password: an access token for 12 hours',
        description:
          "Send the access token as Authorization: Bearer on the share's other requests. Every wrong password counts: more than 10 in 15 minutes, for the share or from one address, is a 429 until the oldest leaves the window.",
        requestBody: jsonBody('Unlock'),
        responses: {
          200: jsonResponse('Unlocked', 'Unlocked'),
          400: common[400],
          401: problem('Not the password', wrongPassword()),
          403: common[403],
          404: viewer[404],
          410: viewer[410],
          422: invalid('No password given', [{ field: 'password', message: 'is required' }]),
          429: {
            ...problem(
              'Too many wrong passwords for this share or from this address',
              new TooManyRequestsError('Too many wrong passwords: try again later.', 840),
            ),
            headers: {
              'Retry-After': { description: 'Seconds until the next attempt may be made', required: true, schema: { type: 'string' } },
            },
          },
          500: common[500],
          503: problem(
            'The database is unreachable, or the store that counts the attempts (Redis)',
            new ServiceUnavailableError('rate limiter'),
          ),
        },
      },
    },
  };
}

/** Some of `from`'s entries, by status. */
function pick<T>(from: Record<number, T>, ...statuses: number[]): Record<number, T> {
  return Object.fromEntries(statuses.map((s) => [s, from[s] as T]));
}
