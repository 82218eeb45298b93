import { loadSecrets } from '../lib/config';
import { createImage } from '../lib/image-files';
import { httpHandler, json } from '../lib/http';
import { multipartBody } from '../lib/multipart';
import { cleanFilename, inspectImage } from '../lib/upload';
import { parse, uploadSchema } from '../lib/validation';

await loadSecrets(); // deployed: this function's secrets, from SSM, in the init phase

/** POST /api/v1/images/: multipart title, description and file; 201 with the image and its Location. */
export const handler = httpHandler(
  async (event) => {
    const { title, description, file } = parse(uploadSchema, event.body);
    const type = await inspectImage(file.content);
    const image = await createImage({
      title,
      description,
      filename: cleanFilename(file.filename, type),
      bytes: file.content,
      type: { ext: type.ext, mime: type.mime },
    });
    const location = `${event.rawPath.replace(/\/+$/, '')}/${image.id}`;
    return json(201, image, { location });
  },
  { write: true, use: [multipartBody()] },
);
