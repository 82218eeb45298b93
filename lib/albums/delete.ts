import { eq } from 'drizzle-orm';
import { db, withDb } from '../db';
import { relaySubject } from '../outbox/relay';
import { albums, shares } from '../schema';
import { albumNotFound } from './errors';

/**
 * Deletes an album; its images stay. The shares of the album go with it (revoked): their ids are
 * returned, for the shares capability to forget them at once (lib/shares/revoke.ts). Throws
 * NotFoundError (404).
 */
export async function deleteAlbum(id: string): Promise<{ revokedShares: string[] }> {
  const revoked = await withDb(() =>
    db().transaction(async (tx) => {
      const gone = await tx.select({ id: shares.id }).from(shares).where(eq(shares.albumId, id)).for('update');
      const [album] = await tx.delete(albums).where(eq(albums.id, id)).returning({ id: albums.id });
      if (!album) throw albumNotFound(id);
      return gone.map((s) => s.id);
    }),
  );
  await relaySubject(id);
  return { revokedShares: revoked };
}
