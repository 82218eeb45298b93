import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { shareCreateSchema } from '../lib/http/share-requests';
import { parse } from '../lib/http/validation';
import { createShare } from '../lib/shares/create';

/** POST /api/v1/shares: a link to an album or to a set of images; 201 with the share, its url and Location. */
export const handler = httpHandler(
  async (event) => {
    const request = parse(shareCreateSchema, jsonBody(event));
    const share = await createShare({
      albumId: request.album_id,
      imageIds: request.image_ids,
      title: request.title,
      description: request.description,
      expiresAt: request.expires_at,
      password: request.password,
      allowOriginals: request.allow_originals,
    });
    return json(201, share, { location: `${event.rawPath.replace(/\/+$/, '')}/${share.id}` });
  },
  { access: 'owner' },
);
