import { withDb } from '../db';
import { encodeKeyset, type Keyset } from '../keyset';
import type { Share } from './resource';
import { sharePage } from './rows';

/** A page of the owner's shares, newest first, and the cursor of the next page while more remain. */
export async function listShares(limit: number, after?: Keyset): Promise<{ items: Share[]; next: string | undefined }> {
  const rows = await withDb(() => sharePage(limit, after));
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? encodeKeyset({ createdAt: last.created_at, id: last.id }) : undefined };
}
