import { registry, toJSONSchema } from 'zod';
import { albumSchema } from '../albums/resource';
import { originalsConfig, uploadConfig } from '../config';
import { type HttpError, ServiceUnavailableError, UnauthorizedError, ValidationError } from '../errors';
import { imageNotFound, notAnAcceptedType, notAnImage, titleTaken } from '../images/errors';
import { IMAGE_EXAMPLE, imageSchema } from '../images/resource';
import { ACCEPTED_TYPES } from '../images/types';
import { once } from '../once';
import { TITLE_MAX } from '../schema';
import { sharedImageSchema, sharedSchema, shareSchema, unlockedSchema } from '../shares/resource';
import { directUploadTooLarge, duplicateImage, notUploadedYet, sizeMismatch, uploadNotFound } from '../uploads/errors';
import { signedUploadSchema } from '../uploads/resource';
import { albumCreateSchema, albumPatchSchema, imageIdsSchema } from './album-requests';
import { DOCS_FILES, noSuchFile } from './docs';
import { crossSiteWrite, notJson } from './handler';
import { multipartTooLarge } from './multipart';
import { collectionPaths } from './openapi-collections';
import { type JsonSchema, jsonSchema, KEYED, pathParameter, pick, privateRead, problem, problemSchema, ref } from './openapi-parts';
import { shareCreateSchema, shareTokenParamsSchema, unlockSchema } from './share-requests';
import {
  DEFAULT_PAGE_SIZE,
  fieldErrors,
  imageIdParamsSchema,
  imagePatchSchema,
  listQuerySchema,
  MAX_PAGE_SIZE,
  uploadIdParamsSchema,
  uploadRequestSchema,
  uploadSchema,
} from './validation';

/** The named schemas (zod `.meta({ id })`). */
const NAMED = {
  Image: imageSchema,
  Album: albumSchema,
  AlbumCreate: albumCreateSchema,
  AlbumPatch: albumPatchSchema,
  ImageIds: imageIdsSchema,
  Share: shareSchema,
  ShareCreate: shareCreateSchema,
  Shared: sharedSchema,
  SharedImage: sharedImageSchema,
  Unlock: unlockSchema,
  Unlocked: unlockedSchema,
  ImageUpload: uploadSchema,
  ImagePatch: imagePatchSchema,
  UploadRequest: uploadRequestSchema,
  SignedUpload: signedUploadSchema,
  Problem: problemSchema,
};

function componentSchemas(): Record<string, JsonSchema> {
  const named = registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED)) named.add(schema, { id });
  const { schemas } = toJSONSchema(named, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _, $id: __, id: ___, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

/**
 * file_url is a presigned GET made per response, longer than the stored 128 characters and valid for
 * ORIGINAL_URL_EXPIRES_SECONDS, unless originals are public — and even then for an image whose
 * processing failed; a share's viewer gets the same when the share allows originals. The document
 * says what the service does.
 */
function withPresignedOriginals(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const { ORIGINALS_PUBLIC, ORIGINAL_URL_EXPIRES_SECONDS } = originalsConfig();
  const fileUrlOf = (name: string) => (schemas[name]?.properties as Record<string, JsonSchema> | undefined)?.file_url;
  const fileUrl = fileUrlOf('Image');
  if (!fileUrl) return schemas;
  const presigned = `a presigned GET of the original, made for this response, valid for ${ORIGINAL_URL_EXPIRES_SECONDS} s`;
  const served = ORIGINALS_PUBLIC
    ? `The original's public URL (ORIGINALS_PUBLIC=true); for an image whose processing failed, ${presigned}`
    : `${presigned[0]?.toUpperCase()}${presigned.slice(1)} (originals are private: only the variants are public)`;
  delete fileUrl.maxLength;
  fileUrl.description = served;
  // A viewer's: null, or the original as the owner gets it.
  for (const member of (fileUrlOf('SharedImage')?.anyOf as JsonSchema[] | undefined) ?? []) {
    if (member.type !== 'string') continue;
    delete member.maxLength;
    member.description = served;
  }
  return schemas;
}

/**
 * What a client needs to know before it sends a file, stated in the request's schema: the size above
 * which POST /api/v1/uploads answers 413 (MAX_DIRECT_UPLOAD_BYTES, not a 422, so zod cannot say it),
 * and the name people know each accepted type by (`x-type-names`: the gallery page's "JPEG, PNG …").
 */
function withUploadFacts(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const properties = schemas.UploadRequest?.properties as Record<string, JsonSchema> | undefined;
  if (!properties?.size || !properties.content_type) return schemas;
  const max = uploadConfig().MAX_DIRECT_UPLOAD_BYTES;
  properties.size.maximum = max;
  properties.size.description = `${properties.size.description}; at most MAX_DIRECT_UPLOAD_BYTES (${max}), else 413`;
  properties.content_type['x-type-names'] = Object.fromEntries([...ACCEPTED_TYPES].map(([mime, type]) => [mime, type.name]));
  return schemas;
}

/** The 422 the validator makes for a title one character too long. */
function tooLongTitle(): HttpError {
  const result = imagePatchSchema.safeParse({ title: 'x'.repeat(TITLE_MAX + 1) });
  return new ValidationError(result.success ? [] : fieldErrors(result.error));
}

const problems = {
  400: problem('The body cannot be parsed', notJson()),
  401: problem('API keys are configured and the request carries none of them', new UnauthorizedError()),
  403: problem("A browser sent it from another site's page (Origin or Sec-Fetch-Site), not an allowed origin", crossSiteWrite()),
  404: problem('No image with that id', imageNotFound(IMAGE_EXAMPLE.id)),
  409: problem('The title is already taken', titleTaken()),
  413: problem('The file is larger than the configured limit', multipartTooLarge(uploadConfig().MAX_UPLOAD_BYTES)),
  415: problem("The file's bytes are not an accepted image type, whatever it claims", notAnImage()),
  422: problem(
    "A field is missing, too long, blank, of the wrong type or unknown, the id is not a UUID, or the file's header is unreadable or the largest canvas a decoder would allocate for it (before any crop) exceeds MAX_IMAGE_PIXELS",
    tooLongTitle(),
  ),
  500: problem('Anything unexpected (logged with the request id)', new Error('an example')),
  503: problem('The database or the object storage is unreachable', new ServiceUnavailableError('database')),
} as const;

type Status = keyof typeof problems;
const errors = (...statuses: Status[]) => Object.fromEntries(statuses.map((s) => [s, problems[s]]));

const imageResponse = (description: string, headers: Record<string, unknown> = {}) => ({
  description,
  headers,
  content: { 'application/json': { schema: ref('Image') } },
});

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  ...pick(jsonSchema(imageIdParamsSchema, 'input'), 'id'),
};
const uploadIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  ...pick(jsonSchema(uploadIdParamsSchema, 'input'), 'id'),
};
const locationHeader = {
  Location: {
    description: 'Where the image is',
    required: true,
    schema: { type: 'string', examples: ['/api/v1/images/530918e4-2d9a-49a7-931e-fb5e18228cc1'] },
  },
};

const webHeaders = {
  ETag: { description: 'Strong, per encoding', required: true, schema: { type: 'string' } },
  'Content-Security-Policy': {
    description: "The page's policy: its own scripts and styles only",
    required: true,
    schema: { type: 'string' },
  },
};
const ifNoneMatch = { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } };
const notModified = { description: 'Unchanged since the ETag sent in If-None-Match', headers: webHeaders };

function buildDocument(): Record<string, unknown> {
  const listQuery = jsonSchema(listQuerySchema, 'input');
  const maxUpload = uploadConfig().MAX_UPLOAD_BYTES;
  const maxDirect = uploadConfig().MAX_DIRECT_UPLOAD_BYTES;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Photo gallery API',
      version: '1.0.0',
      description:
        'Upload images with a title and a description, browse, edit and delete them. Files live in S3, ' +
        'metadata in Postgres; reads by id are cached in Redis. Every change is recorded with it in the ' +
        'database and delivered after the commit, at least once, to the Redis stream `image_events` ' +
        '(with its outbox id) and published on the channel `image_channel`. Errors are ' +
        '`application/problem+json` (RFC 9457). The collections answer with and without their trailing slash.',
    },
    servers: [{ url: '/', description: 'This service' }],
    tags: [
      { name: 'images' },
      { name: 'uploads' },
      { name: 'albums' },
      { name: 'shares', description: "The owner's share links" },
      { name: 'shared', description: "A share link's viewers: no key, the link (and its password) is the access" },
      { name: 'documentation' },
      { name: 'web' },
    ],
    paths: {
      ...collectionPaths(),
      '/api/v1/images/': {
        post: {
          operationId: 'uploadImage',
          tags: ['images'],
          summary: 'Upload an image',
          description:
            `The file's type is judged from its bytes; it is stored under a key the server makes. At most ${maxUpload} bytes ` +
            "(it passes through the function); larger files, and phones' photos, go straight to S3: POST /api/v1/uploads.",
          security: WRITE_SECURITY,
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: ref('ImageUpload') } },
          },
          responses: {
            201: imageResponse('The stored image', {
              Location: {
                description: 'Where the new image is',
                required: true,
                schema: { type: 'string', examples: ['/api/v1/images/530918e4-2d9a-49a7-931e-fb5e18228cc1'] },
              },
            }),
            ...errors(400, 401, 403, 409, 413, 415, 422, 500, 503),
          },
        },
        get: {
          operationId: 'listImages',
          tags: ['images'],
          summary: 'List images, newest first',
          security: KEYED,
          description:
            "Every filter narrows the list (all must hold); the next page's Link keeps them, and a cursor used with other filters or another sort is a 422.",
          parameters: ['limit', 'cursor', 'sort', 'q', 'taken_from', 'taken_to', 'album'].map((name) => ({
            name,
            in: 'query',
            required: false,
            ...pick(listQuery, name),
          })),
          responses: {
            200: {
              description: `A page of at most \`limit\` images (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`,
              headers: {
                Link: {
                  description: 'The next page, while more remain: `<…?limit=…&cursor=…>; rel="next"`',
                  required: false,
                  schema: { type: 'string', pattern: '^<[^>]+>; rel="next"$' },
                },
              },
              content: { 'application/json': { schema: { type: 'array', items: ref('Image') } } },
            },
            401: privateRead(),
            ...errors(422, 500, 503),
          },
        },
      },
      '/api/v1/uploads': {
        post: {
          operationId: 'createUpload',
          tags: ['uploads'],
          summary: 'Sign a direct upload of a file of any size (up to MAX_DIRECT_UPLOAD_BYTES) to S3',
          description:
            `For files of any size up to ${maxDirect} bytes (HEIC included): the file goes straight to S3, ` +
            'never through a function. 1. POST this JSON. 2. POST the file as multipart/form-data to ' +
            '`upload.url`: every `upload.fields` entry, then the part `file`. 3. POST `complete_url`. ' +
            'The signed POST accepts exactly the declared size and type until `expires_at`; the server ' +
            'verifies the stored file again at completion (size, type, dimensions, SHA-256). With `sha256`, ' +
            'an image whose file has that SHA-256 is a 409 naming it (`duplicate_of`, and a `Link` to it with ' +
            'the relation `duplicate`; the oldest, when several have it) unless `allow_duplicate` is true; ' +
            'and the signed POST carries the checksum (`x-amz-checksum-algorithm`, `x-amz-checksum-sha256` in ' +
            '`fields` and in its policy), so the store refuses other bytes. Without `sha256` nothing is ' +
            'compared: the same file can be uploaded twice.',
          security: WRITE_SECURITY,
          requestBody: { required: true, content: { 'application/json': { schema: ref('UploadRequest') } } },
          responses: {
            201: {
              description: 'Signed: POST the file to `upload.url`, then POST `complete_url`',
              content: { 'application/json': { schema: ref('SignedUpload') } },
            },
            ...errors(400, 401, 403),
            409: {
              ...problem(
                'The title is already taken; or an image has the declared `sha256` (and `allow_duplicate` is not true): ' +
                  '`duplicate_of` is its id, and the `Link` header points to it',
                duplicateImage(IMAGE_EXAMPLE.id, `/api/v1/images/${IMAGE_EXAMPLE.id}`),
              ),
              headers: {
                Link: {
                  description: 'On a duplicate: the image with the same bytes, `</api/v1/images/<id>>; rel="duplicate"` (RFC 6249)',
                  required: false,
                  schema: { type: 'string', pattern: '^<[^>]+/images/[0-9a-f-]{36}>; rel="duplicate"$' },
                },
              },
            },
            413: problem(`The declared size is above MAX_DIRECT_UPLOAD_BYTES (${maxDirect})`, directUploadTooLarge(maxDirect)),
            415: problem('The declared content_type is not an accepted image type', notAnAcceptedType()),
            ...errors(422, 500, 503),
          },
        },
      },
      '/api/v1/uploads/{id}/complete': {
        parameters: [uploadIdParameter],
        post: {
          operationId: 'completeUpload',
          tags: ['uploads'],
          summary: 'Make the image from an uploaded file',
          description:
            'No body. Verifies the stored file (its size against the declaration, its type and dimensions from its bytes, ' +
            'its SHA-256 against any declared), then stores the image under a key of its own and answers it: 201 the first time, 200 with the ' +
            'same image after. The SHA-256 is the checksum the store reports when that equals the declaration (then only ' +
            'the header is read), else computed over the whole file. A refused file is deleted; the signed POST may then be ' +
            'used again until it expires.',
          security: WRITE_SECURITY,
          responses: {
            200: imageResponse('Completed before: the same image', locationHeader),
            201: imageResponse('The image, made from the uploaded file', locationHeader),
            401: problems[401],
            403: problems[403],
            404: problem('No pending upload with that id: never created, or expired', uploadNotFound(IMAGE_EXAMPLE.id)),
            409: problem(
              'The file has not been uploaded yet, changed while it was checked, or the title was taken meanwhile',
              notUploadedYet(),
            ),
            413: problem('The stored file is larger than MAX_DIRECT_UPLOAD_BYTES', directUploadTooLarge(maxDirect)),
            415: problem("The stored file's bytes are not an accepted image type", notAnImage()),
            422: problem(
              'The stored file is not the declared size or has not the declared SHA-256, its header is unreadable, or the largest canvas a decoder would allocate for it (before any crop) exceeds MAX_IMAGE_PIXELS',
              sizeMismatch(2483117, 5000),
            ),
            ...errors(500, 503),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          tags: ['documentation'],
          summary: 'This document',
          responses: { 200: { description: 'The OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/docs': {
        get: {
          operationId: 'getDocs',
          tags: ['documentation'],
          summary: 'This page: Swagger UI',
          responses: {
            200: {
              description: 'Swagger UI',
              headers: {
                'Content-Security-Policy': {
                  description: 'Scripts from /docs/ only, none inline; requests to this origin only',
                  required: true,
                  schema: { type: 'string' },
                },
              },
              content: { 'text/html': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/docs/{file}': {
        get: {
          operationId: 'getDocsFile',
          tags: ['documentation'],
          summary: "Swagger UI's script and style sheet, and the script that starts it",
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: DOCS_FILES } }],
          responses: {
            200: {
              description: 'The file, gzipped when the client accepts it',
              content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
            },
            404: problem('No such file', noSuchFile()),
          },
        },
      },
      '/': {
        get: {
          operationId: 'getWebPage',
          tags: ['web'],
          summary: 'The gallery page: browse, upload, edit and delete photos',
          description: "HTML; its scripts and style sheet are under /app/. Sent with the page's Content-Security-Policy and a strong ETag.",
          parameters: [ifNoneMatch],
          responses: {
            200: { description: 'The page', headers: webHeaders, content: { 'text/html': { schema: { type: 'string' } } } },
            304: notModified,
          },
        },
      },
      '/s/{token}': {
        get: {
          operationId: 'getSharePage',
          tags: ['web'],
          summary: "A share link's read-only gallery, for whoever has the link",
          description:
            "HTML, the same page whatever the token: it reads the token from its URL and asks /api/v1/shared/{token} for the share (a password form, or a page saying the link expired or was revoked, as that answers). Sent with the page's Content-Security-Policy and a strong ETag.",
          parameters: [pathParameter(shareTokenParamsSchema, 'token'), ifNoneMatch],
          responses: {
            200: { description: 'The page', headers: webHeaders, content: { 'text/html': { schema: { type: 'string' } } } },
            304: notModified,
          },
        },
      },
      '/app/{file}': {
        get: {
          operationId: 'getWebFile',
          tags: ['web'],
          summary: "The gallery pages' ES modules, style sheet and icons",
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*\\.[a-z]+$' },
              example: 'main.js',
            },
            ifNoneMatch,
          ],
          responses: {
            200: {
              description: 'The file, Brotli- or gzip-compressed when the client accepts it',
              headers: webHeaders,
              content: {
                'text/javascript': { schema: { type: 'string' } },
                'text/css': { schema: { type: 'string' } },
                'image/svg+xml': { schema: { type: 'string' } },
                'image/png': { schema: { type: 'string', format: 'binary' } },
              },
            },
            304: notModified,
            404: problem('No such file', noSuchFile()),
          },
        },
      },
      '/api/v1/images/{id}': {
        parameters: [idParameter],
        get: {
          operationId: 'getImage',
          tags: ['images'],
          summary: 'Get an image',
          security: KEYED,
          responses: {
            200: imageResponse('The image', {
              'X-Cache': {
                description: 'Whether Redis answered (HIT) or the database did (MISS)',
                required: true,
                schema: { type: 'string', enum: ['HIT', 'MISS'] },
              },
            }),
            401: privateRead(),
            ...errors(404, 422, 500, 503),
          },
        },
        patch: {
          operationId: 'updateImage',
          tags: ['images'],
          summary: "Change an image's title and/or description",
          requestBody: { required: true, content: { 'application/json': { schema: ref('ImagePatch') } } },
          security: WRITE_SECURITY,
          responses: { 200: imageResponse('The updated image'), ...errors(400, 401, 403, 404, 409, 422, 500, 503) },
        },
        delete: {
          operationId: 'deleteImage',
          tags: ['images'],
          summary: 'Delete an image and its file',
          security: WRITE_SECURITY,
          responses: {
            204: { description: 'Deleted; its files are removed at once, or retried until the store confirms' },
            ...errors(401, 403, 404, 422, 500, 503),
          },
        },
      },
    },
    components: {
      schemas: withUploadFacts(withPresignedOriginals(componentSchemas())),
      securitySchemes: {
        bearerKey: { type: 'http', scheme: 'bearer', description: 'An API key, when API_KEYS is set' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The same key, in x-api-key' },
      },
    },
  };
}

const WRITE_SECURITY = KEYED;

/** The OpenAPI 3.1 document, generated from the zod schemas the handlers validate with. */
export const openApiDocument = once(buildDocument);

/** The document as the JSON text /openapi.json serves, made once per container. */
export const openApiJson = once(() => JSON.stringify(openApiDocument()));
