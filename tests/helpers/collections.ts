/** The album and share endpoints through their real handlers, as API Gateway calls them. */
import { handler as albumsCreate } from '../../functions/albums-create';
import { handler as albumsDelete } from '../../functions/albums-delete';
import { handler as albumsGet } from '../../functions/albums-get';
import { handler as albumsAdd } from '../../functions/albums-images-add';
import { handler as albumsRemove } from '../../functions/albums-images-remove';
import { handler as albumsList } from '../../functions/albums-list';
import { handler as albumsUpdate } from '../../functions/albums-update';
import { handler as sharedGet } from '../../functions/shared-get';
import { handler as sharedImageGet } from '../../functions/shared-image-get';
import { handler as sharedImagesList } from '../../functions/shared-images-list';
import { handler as sharedUnlock } from '../../functions/shared-unlock';
import { handler as sharesCreate } from '../../functions/shares-create';
import { handler as sharesDelete } from '../../functions/shares-delete';
import { handler as sharesList } from '../../functions/shares-list';
import { invoke, type Reply } from './lambda';

const JSON_TYPE = { 'content-type': 'application/json' };
const body = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

export const albums = {
  create: (value: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsCreate, {
      method: 'POST',
      path: '/api/v1/albums',
      route: 'POST /api/v1/albums',
      headers: { ...JSON_TYPE, ...headers },
      body: body(value),
    }),
  list: (query?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsList, { method: 'GET', path: '/api/v1/albums', route: 'GET /api/v1/albums', headers, ...(query ? { query } : {}) }),
  get: (id: string, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsGet, { method: 'GET', path: `/api/v1/albums/${id}`, route: 'GET /api/v1/albums/{id}', pathParameters: { id }, headers }),
  patch: (id: string, value: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsUpdate, {
      method: 'PATCH',
      path: `/api/v1/albums/${id}`,
      route: 'PATCH /api/v1/albums/{id}',
      pathParameters: { id },
      headers: { ...JSON_TYPE, ...headers },
      body: body(value),
    }),
  remove: (id: string, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsDelete, {
      method: 'DELETE',
      path: `/api/v1/albums/${id}`,
      route: 'DELETE /api/v1/albums/{id}',
      pathParameters: { id },
      headers,
    }),
  add: (id: string, imageIds: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsAdd, {
      method: 'POST',
      path: `/api/v1/albums/${id}/images`,
      route: 'POST /api/v1/albums/{id}/images',
      pathParameters: { id },
      headers: { ...JSON_TYPE, ...headers },
      body: body(Array.isArray(imageIds) ? { image_ids: imageIds } : imageIds),
    }),
  take: (id: string, imageIds: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(albumsRemove, {
      method: 'POST',
      path: `/api/v1/albums/${id}/images/remove`,
      route: 'POST /api/v1/albums/{id}/images/remove',
      pathParameters: { id },
      headers: { ...JSON_TYPE, ...headers },
      body: body(Array.isArray(imageIds) ? { image_ids: imageIds } : imageIds),
    }),
};

export const shares = {
  create: (value: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharesCreate, {
      method: 'POST',
      path: '/api/v1/shares',
      route: 'POST /api/v1/shares',
      headers: { ...JSON_TYPE, ...headers },
      body: body(value),
    }),
  list: (query?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharesList, { method: 'GET', path: '/api/v1/shares', route: 'GET /api/v1/shares', headers, ...(query ? { query } : {}) }),
  revoke: (id: string, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharesDelete, {
      method: 'DELETE',
      path: `/api/v1/shares/${id}`,
      route: 'DELETE /api/v1/shares/{id}',
      pathParameters: { id },
      headers,
    }),
};

/** A viewer of a share link: no owner key; an access token once unlocked. */
export const shared = {
  get: (token: string, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharedGet, {
      method: 'GET',
      path: `/api/v1/shared/${token}`,
      route: 'GET /api/v1/shared/{token}',
      pathParameters: { token },
      headers,
    }),
  images: (token: string, query?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharedImagesList, {
      method: 'GET',
      path: `/api/v1/shared/${token}/images`,
      route: 'GET /api/v1/shared/{token}/images',
      pathParameters: { token },
      headers,
      ...(query ? { query } : {}),
    }),
  image: (token: string, id: string, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharedImageGet, {
      method: 'GET',
      path: `/api/v1/shared/${token}/images/${id}`,
      route: 'GET /api/v1/shared/{token}/images/{id}',
      pathParameters: { token, id },
      headers,
    }),
  unlock: (token: string, value: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    invoke(sharedUnlock, {
      method: 'POST',
      path: `/api/v1/shared/${token}/unlock`,
      route: 'POST /api/v1/shared/{token}/unlock',
      pathParameters: { token },
      headers: { ...JSON_TYPE, ...headers },
      body: body(value),
    }),
};
