import { and, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import { outboxConfig } from '../config';
import { db, withDb } from '../db';
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
}

/**
 * Delivers events, in the order given, in one round trip: each appended to the stream
 * `image_events` (with its outbox id, for consumers to drop a repeat) and published on
 * `image_channel`, byte for byte as before the outbox. Resolves true only when Redis took every one.
 */
async function deliver(events: PendingEvent[]): Promise<boolean> {
  const maxLength = outboxConfig().STREAM_MAXLEN;
  const delivered = await bounded(`deliver ${events.length} event(s)`, (r: RedisBackend) =>
    Promise.all(
      events.flatMap((e) => {
        const message = encodeEvent(e.event as ImageEventName, { id: e.imageId, title: e.title });
        return [r.xadd(IMAGE_STREAM, maxLength, { event: message, outbox_id: String(e.id) }), r.publish(IMAGE_CHANNEL, message)];
      }),
    ),
  );
  return delivered !== undefined;
}

/** Marks events delivered (those not marked by another relay meanwhile). */
async function markPublished(ids: number[]): Promise<void> {
  await withDb(() =>
    db()
      .update(outbox)
      .set({ publishedAt: sql`now()` })
      .where(and(inArray(outbox.id, ids), isNull(outbox.publishedAt))),
  );
}

/**
 * Right after a change of an image commits: delivers that image's undelivered events, oldest first,
 * and marks them. Best effort and bounded, never thrown: when Redis or the database fails, the events
 * stay in the outbox and the relay (relayPending) delivers them later. Two relays may both deliver
 * an event (at least once); each starts from the image's oldest undelivered event, so the first
 * delivery of each is in commit order.
 */
export async function relayImage(imageId: string): Promise<void> {
  try {
    const events = await withDb(() =>
      db()
        .select({ id: outbox.id, imageId: outbox.imageId, event: outbox.event, title: outbox.title })
        .from(outbox)
        .where(and(eq(outbox.imageId, imageId), isNull(outbox.publishedAt)))
        .orderBy(outbox.id),
    );
    if (events.length > 0 && (await deliver(events))) await markPublished(events.map((e) => e.id));
  } catch (err) {
    log.warn('events left for the relay', { imageId, ...describeError(err) });
  }
}

/**
 * The relay: delivers undelivered events, oldest first, at most `batch`, and marks them, in one
 * transaction. Rows are locked FOR UPDATE SKIP LOCKED, so relays running at once (the listener, the
 * scheduled function, a function after its write) never deliver an event twice between them; an
 * event whose image has an older event still undelivered and not in this batch (another relay holds
 * it, or a transaction in flight) waits for the next round, so each image's events go out in commit
 * order. Returns how many were delivered; throws when the database fails, leaves them all when Redis
 * does.
 */
export async function relayPending(batch = 100): Promise<number> {
  return withDb(() =>
    db().transaction(async (tx) => {
      const locked = await tx
        .select({ id: outbox.id, imageId: outbox.imageId, event: outbox.event, title: outbox.title })
        .from(outbox)
        .where(isNull(outbox.publishedAt))
        .orderBy(outbox.id)
        .limit(batch)
        .for('update', { skipLocked: true });
      if (locked.length === 0) return 0;
      const ids = locked.map((e) => e.id);
      // The oldest undelivered event of each of these images that this relay does not hold: a held
      // event after it waits.
      const held = await tx
        .select({ imageId: outbox.imageId, oldest: sql<number>`min(${outbox.id})`.mapWith(Number) })
        .from(outbox)
        .where(
          and(isNull(outbox.publishedAt), inArray(outbox.imageId, [...new Set(locked.map((e) => e.imageId))]), notInArray(outbox.id, ids)),
        )
        .groupBy(outbox.imageId);
      const oldestElsewhere = new Map(held.map((h) => [h.imageId, h.oldest]));
      const ready = locked.filter((e) => e.id < (oldestElsewhere.get(e.imageId) ?? Number.POSITIVE_INFINITY));
      if (ready.length === 0 || !(await deliver(ready))) return 0;
      await tx
        .update(outbox)
        .set({ publishedAt: sql`now()` })
        .where(
          inArray(
            outbox.id,
            ready.map((e) => e.id),
          ),
        );
      return ready.length;
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
