import { deleteAlbum } from '../lib/albums/delete';
import { albumIdParamsSchema } from '../lib/http/album-requests';
import { httpHandler, noContent } from '../lib/http/handler';
import { parse } from '../lib/http/validation';
import { forgetShares } from '../lib/shares/revoke';

/** DELETE /api/v1/albums/{id}: the album only (its images stay); the links that share it stop working at once. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(albumIdParamsSchema, event.pathParameters ?? {});
    const { revokedShares } = await deleteAlbum(id);
    await forgetShares(revokedShares);
    return noContent();
  },
  { access: 'owner' },
);
