import { iso, literal, record, strictObject, string, url, uuid } from 'zod';

// A signed direct upload as POST /api/v1/uploads answers it, for the OpenAPI document (only the
// document builds this schema).

export const SIGNED_UPLOAD_EXAMPLE = {
  id: '530918e4-2d9a-49a7-931e-fb5e18228cc1',
  upload: {
    method: 'POST',
    url: 'https://photo-gallery-prod-123456789012.s3.eu-central-1.amazonaws.com/',
    fields: {
      'Content-Type': 'image/heic',
      bucket: 'photo-gallery-prod-123456789012',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'ASIA…/20261127/eu-central-1/s3/aws4_request',
      'X-Amz-Date': '20261127T180000Z',
      'X-Amz-Security-Token': '…',
      key: 'uploads/530918e4-2d9a-49a7-931e-fb5e18228cc1',
      Policy: 'eyJleHBpcmF0aW9uIjoi…',
      'X-Amz-Signature': '9f3c…',
    },
  },
  expires_at: '2026-11-27T18:15:00.000000+00:00',
  complete_url: '/api/v1/uploads/530918e4-2d9a-49a7-931e-fb5e18228cc1/complete',
};

export const signedUploadSchema = strictObject({
  id: uuid().meta({ description: "The upload's id; the image will have it" }),
  upload: strictObject({
    method: literal('POST'),
    url: url().meta({ description: 'Where the browser or client POSTs the file' }),
    fields: record(string(), string()).meta({
      description: 'Every entry goes into the multipart/form-data POST, in order, before the `file` part',
    }),
  }),
  expires_at: iso.datetime({ offset: true, precision: 6 }).meta({ description: 'After this the POST is refused and the upload discarded' }),
  complete_url: string().meta({ description: 'POST here, with no body, once the file is stored' }),
}).meta({
  id: 'SignedUpload',
  description: 'A presigned S3 POST for exactly the declared size and type, at a key the server chose',
  examples: [SIGNED_UPLOAD_EXAMPLE],
});
