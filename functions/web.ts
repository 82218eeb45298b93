import { header, httpHandler } from '../lib/http/handler';
import { webAsset, webPage } from '../lib/http/web';

/** GET /: the gallery page, and GET /app/{file}: its scripts, style sheet and icon (web/), with the page's CSP. */
export const handler = httpHandler(
  async (event) => {
    const conditions = { acceptEncoding: header(event, 'accept-encoding'), ifNoneMatch: header(event, 'if-none-match') };
    const file = event.pathParameters?.file;
    return file === undefined ? webPage(conditions) : webAsset(file, conditions);
  },
  { access: 'anyone' },
);
