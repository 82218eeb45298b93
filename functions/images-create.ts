import { httpHandler, json } from '../lib/http/handler';
import { readMultipartForm } from '../lib/http/multipart';
import { parse, uploadSchema } from '../lib/http/validation';
import { createImage } from '../lib/images/create';
import { cleanFilename } from '../lib/images/filename';
import { inspectImage } from '../lib/images/inspect';

/** POST /api/v1/images/: multipart title, description and file; 201 with the image and its Location. */
export const handler = httpHandler(
  async (event) => {
    const { title, description, file } = parse(uploadSchema, readMultipartForm(event));
    const type = await inspectImage(file.content);
    const image = await createImage({
      title,
      description,
      filename: cleanFilename(file.filename, type),
      bytes: file.content,
      type: { ext: type.ext, mime: type.mime },
      width: type.width,
      height: type.height,
    });
    const location = `${event.rawPath.replace(/\/+$/, '')}/${image.id}`;
    return json(201, image, { location });
  },
  { access: 'owner' },
);
