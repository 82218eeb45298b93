import { header, httpHandler } from '../lib/http/handler';
import { sharePage, webAsset, webPage } from '../lib/http/web';

/**
 * GET /: the gallery page; GET /s/{token}: a share's read-only gallery; GET /app/{file}: their
 * scripts, style sheet and icons (web/). All with the pages' CSP.
 */
export const handler = httpHandler(
  async (event) => {
    const conditions = { acceptEncoding: header(event, 'accept-encoding'), ifNoneMatch: header(event, 'if-none-match') };
    const file = event.pathParameters?.file;
    if (file !== undefined) return webAsset(file, conditions);
    return event.pathParameters?.token === undefined ? webPage(conditions) : sharePage(conditions);
  },
  { access: 'anyone' },
);
