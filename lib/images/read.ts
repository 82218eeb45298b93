import { originalsConfig } from '../config';
import { withDb } from '../db';
import { cacheImage, readCachedImage } from './cache';
import { imageNotFound } from './errors';
import { present } from './present';
import type { Image } from './resource';
import { preparedReads } from './rows';

/** The image with this id from the database, as stored (file_url not presented); throws NotFoundError (404). */
async function storedImage(id: string): Promise<Image> {
  const [row] = await withDb(() => preparedReads().byId.execute({ id }));
  if (!row) throw imageNotFound(id);
  return row;
}

/** The image with this id from the database, as a client gets it; throws NotFoundError (404). */
export async function getImage(id: string): Promise<Image> {
  return present(await storedImage(id));
}

/**
 * The image's JSON, from the cache when it is there (HIT) or from the database, then cached (MISS).
 * When Redis fails the database answers and nothing is cached. Throws NotFoundError (404).
 * The cache holds the image as stored: a private original's presigned file_url is made for each
 * answer, a HIT's too, so that no cached answer outlives its link.
 */
export async function readImage(id: string): Promise<{ json: string; cache: 'HIT' | 'MISS' }> {
  const cached = await readCachedImage(id);
  if (typeof cached === 'string') return { json: await presentJson(cached), cache: 'HIT' };
  const image = await storedImage(id);
  const json = JSON.stringify(image);
  // undefined: Redis just failed or timed out; do not spend a second timeout on the fill.
  if (cached === null) await cacheImage(image, json);
  return { json: await presentJson(json), cache: 'MISS' };
}

/**
 * A stored image's JSON as a client gets it: the very bytes when its original is public. (The
 * processing state is read from the text: inside a JSON string every quote is escaped, so no title
 * can spell `"processing":"failed"`.)
 */
async function presentJson(json: string): Promise<string> {
  if (originalsConfig().ORIGINALS_PUBLIC && !json.includes('"processing":"failed"')) return json;
  return JSON.stringify(await present(JSON.parse(json) as Image));
}
