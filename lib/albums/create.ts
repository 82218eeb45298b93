import { randomUUID } from 'node:crypto';
import { db, withDb } from '../db';
import { relaySubject } from '../outbox/relay';
import { albums } from '../schema';
import type { Album } from './resource';
import { albumById, albumConflicts } from './rows';

/** Makes an album (its event album_created written with it, delivered after). Throws ConflictError (409) for a title taken. */
export async function createAlbum(input: { title: string; description: string }): Promise<Album> {
  const id = randomUUID();
  const album = await withDb(
    () =>
      db().transaction(async (tx) => {
        await tx.insert(albums).values({ id, title: input.title, description: input.description });
        return albumById(id, tx);
      }),
    albumConflicts,
  );
  if (!album) throw new Error('INSERT made no album');
  await relaySubject(id);
  return album;
}
