import { docsAsset, docsPage } from '../lib/http/docs';
import { header, httpHandler } from '../lib/http/handler';

/** GET /docs: Swagger UI, and GET /docs/{file}: its files, served from the swagger-ui-dist package. */
export const handler = httpHandler(
  async (event) => {
    const file = event.pathParameters?.file;
    if (file) return docsAsset(file, header(event, 'accept-encoding'));
    const base = event.rawPath.replace(/\/+$/, '');
    return docsPage(base, `${base.slice(0, -'/docs'.length)}/openapi.json`);
  },
  { access: 'anyone' },
);
