import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { makeJpeg } from '../../support/images';
import { type BenchContext, BUCKET, type Table } from '../context';
import { alternate, median, ms, percentile } from '../stats';

/**
 * What the outbox costs a write, and how fast the relay empties it. A write's own database and Redis
 * work with the outbox (the trigger's INSERT in the write's transaction, then, for an update, the
 * cache invalidation beside the image's events read, appended to the stream and published, and
 * marked: relayChange) against the same write before the outbox (the trigger off for that session,
 * then the invalidation and one PUBLISH), alternating run by run; for an upload the object
 * PUT and the guard that removes it should the transaction not commit are in. Then the relay: 5,000
 * undelivered events drained by one relay in batches of 100 (each a transaction: lock, deliver, mark).
 */
export async function outbox(ctx: BenchContext): Promise<Table[]> {
  const { sql, redis } = ctx;
  const { relayPending } = await import('../../lib/outbox/relay');
  const { announceChange, announceUpload } = await import('../../lib/images/announce');
  const { invalidateImage } = await import('../../lib/images/cache');
  const { ISO_TIMESTAMP_PATTERN } = await import('../../lib/db');
  const { encodeEvent, IMAGE_CHANNEL } = await import('../../lib/outbox/events');
  // Two sessions of their own (the context's pool holds one connection): "before the outbox", in
  // which the trigger does not fire (the replica role skips triggers), and "with it".
  const sessions = postgres(ctx.databaseUrl, { max: 2, onnotice: () => {} });
  const before = await sessions.reserve();
  await before`set session_replication_role = replica`;
  const after = await sessions.reserve();

  const iterations = ctx.options.iterations;
  const [row] = await after<{ id: string }[]>`
    insert into images (id, title, description, filename, file_url, processing)
    values (gen_random_uuid(), ${`outbox ${randomUUID().slice(0, 8)}`}, '', 'f.jpg', ${`${ctx.filesBaseUrl}/images/f.jpg`}, 'ready') returning id`;
  const id = row?.id ?? '';
  let n = 0;

  const update = await alternate(
    iterations,
    async () => {
      const [changed] = await after<{ version: string }[]>`
        update images set description = ${`d ${n++}`}, updated_at = greatest(now(), updated_at + interval '1 microsecond')
        where id = ${id} returning to_char(updated_at at time zone 'UTC', ${ISO_TIMESTAMP_PATTERN}) as version`;
      await announceChange(id, changed?.version);
      return changed;
    },
    async () => {
      const [changed] = await before<{ title: string; version: string }[]>`
        update images set description = ${`d ${n++}`}, updated_at = greatest(now(), updated_at + interval '1 microsecond')
        where id = ${id} returning title, to_char(updated_at at time zone 'UTC', ${ISO_TIMESTAMP_PATTERN}) as version`;
      await Promise.all([
        invalidateImage(id, changed?.version),
        redis.publish(IMAGE_CHANNEL, encodeEvent({ event: 'image_updated', subjectId: id, title: changed?.title ?? '', payload: null })),
      ]);
    },
  );

  const photo = makeJpeg(640, 480, 90);
  const upload = async (session: typeof after, outboxed: boolean) => {
    const newId = randomUUID();
    const key = `images/${newId}.jpg`;
    const [guard] = outboxed
      ? await session<
          { id: string }[]
        >`insert into file_removals (key, not_before) values (${key}, now() + interval '15 minutes') returning id`
      : [];
    // A reserved connection has no begin(): the transaction by hand, as the app's is one.
    await session`begin`;
    try {
      await session`insert into images (id, title, description, filename, file_url)
               values (${newId}, ${`o ${newId}`.slice(0, 32)}, '', 'p.jpg', ${`${ctx.filesBaseUrl}/${key}`})`;
      if (guard) await session`delete from file_removals where key = ${key}`;
      await ctx.s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: photo, ContentType: 'image/jpeg' }));
      await session`commit`;
    } catch (err) {
      await session`rollback`;
      throw err;
    }
    if (outboxed) await announceUpload(newId);
    else
      await redis.publish(
        IMAGE_CHANNEL,
        encodeEvent({ event: 'image_uploaded', subjectId: newId, title: `o ${newId}`.slice(0, 32), payload: null }),
      );
  };
  const create = await alternate(
    iterations,
    () => upload(after, true),
    () => upload(before, false),
  );

  before.release();
  after.release();
  await sessions.end();

  const row50 = (name: string, [withOutbox, without]: [number[], number[]]) => {
    const r = median(withOutbox) / median(without);
    return [
      name,
      ms(median(withOutbox)),
      ms(percentile(withOutbox, 99)),
      ms(median(without)),
      ms(percentile(without, 99)),
      `${r.toFixed(2)}x`,
      `≤ 1.1x ${r <= 1.1 ? '(met)' : '(NOT met)'}`,
    ];
  };
  const cost: Table = {
    title: `The outbox's cost to a write: its database and Redis work with the outbox and before it (${iterations} each, alternating)`,
    columns: [
      ['write', 'left'],
      ['with the outbox p50', 'right'],
      ['p99', 'right'],
      ['before it p50', 'right'],
      ['p99', 'right'],
      ['ratio p50', 'right'],
      ['goal', 'left'],
    ],
    rows: [
      row50('update (title or description)', update),
      row50(`upload of a ${(photo.length / 1024).toFixed(0)} KB JPEG (PUT in the transaction)`, create),
    ],
  };

  // The relay: 5,000 undelivered events of 1,000 images, drained in batches of 100.
  const throughput = async () => {
    await sql`update outbox set published_at = now() where published_at is null`;
    await sql`
      insert into outbox (subject_id, event, title)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(n % 1000), 12, '0'))::uuid, 'image_updated', 'relay ' || n
      from generate_series(1, 5000) as n`;
    const started = performance.now();
    let delivered = 0;
    for (let done = await relayPending(100); done > 0; done = await relayPending(100)) delivered += done;
    const seconds = (performance.now() - started) / 1000;
    return [String(delivered), `${seconds.toFixed(2)} s`, `${Math.round(delivered / seconds)}`];
  };
  const relayTable: Table = {
    title: 'The relay: 5,000 undelivered events (1,000 images) to the stream and the channel, batches of 100',
    columns: [
      ['delivered', 'right'],
      ['time', 'right'],
      ['events/s', 'right'],
    ],
    rows: [await throughput()],
  };
  return [cost, relayTable];
}
