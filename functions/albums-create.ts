import { createAlbum } from '../lib/albums/create';
import { albumCreateSchema } from '../lib/http/album-requests';
import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { parse } from '../lib/http/validation';

/** POST /api/v1/albums: a title (unique) and a description; 201 with the album and its Location. */
export const handler = httpHandler(
  async (event) => {
    const album = await createAlbum(parse(albumCreateSchema, jsonBody(event)));
    return json(201, album, { location: `${event.rawPath.replace(/\/+$/, '')}/${album.id}` });
  },
  { access: 'owner' },
);
