import { withDb } from '../db';
import { encodeKeyset, type Keyset } from '../keyset';
import { albumNotFound } from './errors';
import type { Album } from './resource';
import { albumById, albumPage } from './rows';

/** The album with this id, its count and cover as they are now; throws NotFoundError (404). */
export async function getAlbum(id: string): Promise<Album> {
  const album = await withDb(() => albumById(id));
  if (!album) throw albumNotFound(id);
  return album;
}

/** A page of albums, newest first, and the cursor of the next page while more remain. */
export async function listAlbums(limit: number, after?: Keyset): Promise<{ items: Album[]; next: string | undefined }> {
  const rows = await withDb(() => albumPage(limit, after));
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? encodeKeyset({ createdAt: last.created_at, id: last.id }) : undefined };
}
