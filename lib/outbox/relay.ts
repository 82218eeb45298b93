import { sql } from 'drizzle-orm';
import { outboxConfig } from '../config';
import { db, ISO_TIMESTAMP_PATTERN, sqlClient, withDb } from '../db';
import { invalidateImage, invalidation } from '../images/cache';
import { encodeEvent, IMAGE_CHANNEL, IMAGE_STREAM, type ImageEventName } from '../images/events';
import { describeError, log } from '../log';
import { bounded, type RedisBackend } from '../redis';
import { outbox } from '../schema';

// Checked at import: a bad stream length or retention fails the cold start.
outboxConfig();

interface PendingEvent {
  id: number;
  imageId: string;
  event: string;
  title: string;
  /** The image's updated_at now, or null when it is deleted. */
  version: string | null;
}

/** A writer's own invalidation of an image: the version it fenced, and whether Redis took it. */
interface Invalidated {
  imageId: string;
  version: string | undefined;
  landed: Promise<boolean>;
}

/** Events sent to Redis together: each of a group's round trips has REDIS_TIMEOUT_MS to itself. */
const DELIVERY_GROUP = 10;

/**
 * Delivers events, in the order given, a group of DELIVERY_GROUP at a time: each appended to the
 * stream `image_events` (with its outbox id, for consumers to drop a repeat) and published on
 * `image_channel`, byte for byte as before the outbox. Before a group of changes to existing images
 * goes out, their cached entries are dropped and their fences raised to the images' versions now, in
 * a round trip of its own (then the events are sent only once Redis has done it, on either backend):
 * whoever hears of a change cannot then read the version before it from the cache, even when the
 * write's own invalidation found Redis away. Stops at the first group Redis did not take, and returns
 * how many events from the start it took: a slow Redis delivers a long backlog over several rounds
 * rather than sending all of it again each round.
 */
async function deliver(events: PendingEvent[], invalidated?: Invalidated): Promise<number> {
  const maxLength = outboxConfig().STREAM_MAXLEN;
  let delivered = 0;
  while (delivered < events.length) {
    const group = events.slice(delivered, delivered + DELIVERY_GROUP);
    // An upload has no earlier version anyone could have cached.
    const changed = new Map(group.filter((e) => e.event !== 'image_uploaded').map((e) => [e.imageId, e.version ?? undefined]));
    // Done already by the write, for the version the image has now: not again.
    const { imageId, version, landed } = invalidated ?? {};
    if (imageId !== undefined && changed.has(imageId) && changed.get(imageId) === version && (await landed)) changed.delete(imageId);
    if (changed.size > 0) {
      const invalidated = await bounded(`cache invalidation of ${changed.size} image(s) before their events`, (r: RedisBackend) =>
        Promise.all([...changed].map(([imageId, version]) => invalidation(r, imageId, version))),
      );
      if (invalidated === undefined) break;
    }
    const took = await bounded(`deliver ${group.length} event(s)`, (r: RedisBackend) =>
      Promise.all(
        group.flatMap((e) => {
          const message = encodeEvent(e.event as ImageEventName, { id: e.imageId, title: e.title });
          return [r.xadd(IMAGE_STREAM, maxLength, { event: message, outbox_id: String(e.id) }), r.publish(IMAGE_CHANNEL, message)];
        }),
      ),
    );
    if (took === undefined) break;
    delivered += group.length;
  }
  return delivered;
}

/**
 * Right after a change of an image commits: delivers that image's undelivered events, oldest first,
 * and marks them, as the relay does (relayPending, limited to the image). Best effort and bounded,
 * never thrown: when Redis or the database fails, the events stay in the outbox and the relay
 * delivers them later.
 */
export async function relayImage(imageId: string, invalidated?: Invalidated): Promise<void> {
  try {
    await relayPending(100, imageId, invalidated);
  } catch (err) {
    log.warn('events left for the relay', { imageId, ...describeError(err) });
  }
}

/**
 * Right after a change of an existing image commits (`version` its updated_at now, undefined once it
 * is deleted): drops its cached entry and raises its fence, so that no request sees the version
 * before it once the write has answered, and delivers its events as relayImage does. The delivery
 * counts on this invalidation when Redis took it for the version the image still has, and makes its
 * own otherwise. Never thrown.
 */
export async function relayChange(imageId: string, version: string | undefined): Promise<void> {
  const landed = invalidateImage(imageId, version);
  await Promise.all([landed, relayImage(imageId, { imageId, version, landed })]);
}

/**
 * The relay: delivers undelivered events (of one image, or of all), oldest first, at most `batch`,
 * and marks them, in one transaction. Rows are locked FOR UPDATE SKIP LOCKED, so relays running at
 * once (the listener, the scheduled function, a function after its write) never deliver an event
 * twice between them; an event whose image has an older event still undelivered and not in this
 * batch (another relay holds it, or a transaction in flight) waits for the next round, so each
 * image's events go out in commit order. Returns how many were delivered; throws when the database
 * fails, leaves them all when Redis does.
 */
export async function relayPending(batch = 100, imageId?: string, invalidated?: Invalidated): Promise<number> {
  // Plain SQL through postgres.js: this runs after every write, and Drizzle's building of these four
  // statements cost more than running them (about 1.2 of 2.3 ms, measured).
  return withDb(() =>
    sqlClient().begin(async (tx) => {
      // Marking events delivered need not wait for the disk: were the mark lost in a crash of the
      // database, the events would go out again, which at least once allows. The change itself was
      // committed durably.
      await tx`set local synchronous_commit = off`;
      // The undelivered events this relay can lock, and for each the oldest undelivered event of its
      // image that it does not hold (another relay holds it, or a transaction in flight wrote it):
      // an event after that one waits.
      const locked = await tx<
        { id: string; image_id: string; event: string; title: string; held: string | null; version: string | null }[]
      >`
        with locked as (
          select id, image_id, event, title from outbox
          where published_at is null ${imageId === undefined ? tx`` : tx`and image_id = ${imageId}`}
          order by id limit ${batch}
          for update skip locked)
        select l.id, l.image_id, l.event, l.title,
          (select min(h.id) from outbox h
           where h.published_at is null and h.image_id = l.image_id and h.id not in (select id from locked)) as held,
          (select to_char(i.updated_at at time zone 'UTC', ${ISO_TIMESTAMP_PATTERN}) from images i where i.id = l.image_id) as version
        from locked l order by l.id`;
      const ready: PendingEvent[] = locked
        .filter((e) => e.held === null || BigInt(e.id) < BigInt(e.held))
        .map((e) => ({ id: Number(e.id), imageId: e.image_id, event: e.event, title: e.title, version: e.version }));
      const delivered = ready.length === 0 ? 0 : await deliver(ready, invalidated);
      if (delivered === 0) return 0;
      await tx`update outbox set published_at = now() where id = any(${ready.slice(0, delivered).map((e) => e.id)}::int8[])`;
      return delivered;
    }),
  );
}

/** Deletes delivered events older than OUTBOX_RETENTION_HOURS; how many. */
export async function pruneOutbox(): Promise<number> {
  const hours = outboxConfig().OUTBOX_RETENTION_HOURS;
  const pruned = await withDb(() =>
    db().delete(outbox).where(sql`${outbox.publishedAt} < now() - make_interval(hours => ${hours})`).returning({ id: outbox.id }),
  );
  return pruned.length;
}
