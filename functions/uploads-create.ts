import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { parse, uploadRequestSchema } from '../lib/http/validation';
import { notAnAcceptedType } from '../lib/images/errors';
import { cleanFilename } from '../lib/images/filename';
import { declaredType } from '../lib/images/types';
import { createUpload } from '../lib/uploads/create';

/** POST /api/v1/uploads: signs a direct upload to S3; 201 with the presigned POST and where to complete it. */
export const handler = httpHandler(
  async (event) => {
    const request = parse(uploadRequestSchema, jsonBody(event));
    const type = declaredType(request.content_type);
    if (!type) throw notAnAcceptedType();
    const base = event.rawPath.replace(/\/+$/, '');
    const signed = await createUpload(
      {
        title: request.title,
        description: request.description,
        filename: cleanFilename(request.filename, type),
        size: request.size,
        contentType: type.mime,
        sha256: request.sha256,
        allowDuplicate: request.allow_duplicate,
      },
      (id) => base.replace(/\/uploads$/, `/images/${id}`),
    );
    const completeUrl = `${base}/${signed.id}/complete`;
    return json(201, { ...signed, complete_url: completeUrl });
  },
  { access: 'owner' },
);
