import httpMultipartBodyParser from '@middy/http-multipart-body-parser';
import { uploadConfig } from './config';
import { BadRequestError, PayloadTooLargeError } from './errors';
import { header, type HttpMiddleware } from './http';

/**
 * Parses multipart/form-data with @middy/http-multipart-body-parser under the upload limit.
 * A body that is not multipart is a 400, an oversized file a 413 with the limit in the detail.
 */
export const multipartBody = (): HttpMiddleware => {
  const limit = uploadConfig().MAX_UPLOAD_BYTES;
  const parser = httpMultipartBodyParser({
    // Its own Content-Type check refuses quoted boundaries that browsers and curl may send; ours is below.
    disableContentTypeCheck: true,
    // Two files allowed through so that a second file part is seen and refused, not silently dropped.
    busboy: { limits: { fileSize: limit, files: 2, fields: 10, parts: 12, fieldSize: 64 * 1024 } },
  });
  // A body far beyond the limit is refused before it is decoded and parsed.
  const maxBodyLength = Math.ceil(((limit + 64 * 1024) * 4) / 3);
  return {
    before: async (request) => {
      const type = header(request.event, 'content-type') ?? '';
      if (!/^multipart\/form-data\s*;(.*;)?\s*boundary=/i.test(type)) {
        throw new BadRequestError(
          'The body must be multipart/form-data with the fields title, description and file.',
        );
      }
      if (!request.event.body) throw new BadRequestError('The multipart body is empty.');
      if (request.event.body.length > maxBodyLength) throw new PayloadTooLargeError(limit);
      try {
        await parser.before?.(request as never);
      } catch (err) {
        const status = (err as { statusCode?: unknown }).statusCode;
        if (status === 413) throw new PayloadTooLargeError(limit);
        throw new BadRequestError('The multipart body could not be parsed.');
      }
    },
  };
};
