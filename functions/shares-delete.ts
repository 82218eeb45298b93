import { httpHandler, noContent } from '../lib/http/handler';
import { shareIdParamsSchema } from '../lib/http/share-requests';
import { parse } from '../lib/http/validation';
import { revokeShare } from '../lib/shares/revoke';

/** DELETE /api/v1/shares/{id}: revokes the link; its next viewer request is a 404. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(shareIdParamsSchema, event.pathParameters ?? {});
    await revokeShare(id);
    return noContent();
  },
  { access: 'owner' },
);
