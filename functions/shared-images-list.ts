import { header, httpHandler, json } from '../lib/http/handler';
import { nextPageLink } from '../lib/http/links';
import { viewerShare } from '../lib/http/shared';
import { parse, sharedListQuerySchema } from '../lib/http/validation';
import { sharedImages } from '../lib/shares/viewer-images';

/** GET /api/v1/shared/{token}/images: the share's images as the owner's list pages them, each as a viewer gets it. */
export const handler = httpHandler(
  async (event) => {
    const share = await viewerShare(event.pathParameters?.token, header(event, 'authorization'));
    const query = parse(sharedListQuerySchema, event.queryStringParameters ?? {});
    const page = await sharedImages(share, {
      sort: query.sort,
      limit: query.limit,
      q: query.q,
      takenFrom: query.taken_from,
      takenTo: query.taken_to,
      cursor: query.cursor,
    });
    const linked = { ...query, sort: query.sort === 'created' ? undefined : query.sort };
    return json(200, page.items, nextPageLink(event.rawPath, linked, page.next));
  },
  { access: 'anyone' },
);
