import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeJpeg } from '../../support/images';
import { boundSql, PAGE_SIZE } from '../app';
import { AGAINST_RAW, type BenchContext, BUCKET, type Table, uploadEvents } from '../context';
import { alternate, median, ms, percentile, ratio } from '../stats';

/**
 * Warm paths, in this process: each handler alternates, invocation by invocation, with the raw
 * operations it must do, so that both see the same moments of a noisy machine.
 */
export async function warmPaths(ctx: BenchContext): Promise<Table> {
  const { handlers, call, id, getEvent, listEvent, readQueries, imageKey, cacheTtlSeconds } = await ctx.app();
  const { sql, redis } = ctx;
  /** One row of the table: the handler's times against the raw operations', and the goal for p50. */
  const pair = async (
    path: string,
    handler: () => Promise<unknown>,
    rawName: string,
    raw: () => Promise<unknown>,
    goal: number,
    before?: () => Promise<unknown>,
  ) => {
    const [h, r] = await alternate(ctx.options.iterations, handler, raw, before);
    const r50 = median(h) / median(r);
    const p99 = (values: number[]) => percentile(values, 99);
    return [
      path,
      ms(median(h)),
      ms(p99(h)),
      rawName,
      ms(median(r)),
      ms(p99(r)),
      `${r50.toFixed(2)}x`,
      ratio(p99(h), p99(r)),
      `≤ ${goal}x ${r50 <= goal ? '(met)' : '(NOT met)'}`,
    ];
  };

  // The raw operations run the handlers' own queries, prepared as theirs are, straight on postgres.js.
  const byId = boundSql(readQueries().byId, { id });
  const firstPage = boundSql(readQueries().firstPage, { limit: PAGE_SIZE + 1 });
  const key = imageKey(id);

  const rows: string[][] = [];
  await call(handlers.get, getEvent, 200);
  const json = (await redis.get(key)) ?? '';
  rows.push(
    await pair(
      'GET by id, cache hit',
      () => call(handlers.get, getEvent, 200),
      'one Redis GET',
      () => redis.get(key),
      1.5,
    ),
  );
  rows.push(
    await pair(
      'GET by id, cache miss',
      () => call(handlers.get, getEvent, 200),
      'one SELECT by key + one Redis SET',
      async () => {
        await sql.unsafe(byId.text, byId.params, { prepare: true });
        await redis.set(key, json, { EX: cacheTtlSeconds });
      },
      1.5,
      () => redis.del(key),
    ),
  );
  rows.push(
    await pair(
      `list, a page of ${PAGE_SIZE}`,
      () => call(handlers.list, listEvent, 200),
      'the raw keyset SELECT',
      () => sql.unsafe(firstPage.text, firstPage.params, { prepare: true }),
      1.2,
    ),
  );

  const megabyte = makeJpeg(640, 640, 95);
  const upload = await uploadEvents('bench', { bytes: megabyte, filename: 'mb.jpg' });
  let n = 0;
  let next = upload('first');
  rows.push(
    await pair(
      `upload of a ${(megabyte.length / 1024 / 1024).toFixed(2)} MB JPEG`,
      () => call(handlers.create, next, 201),
      'raw S3 PutObject + INSERT',
      async () => {
        const rawId = randomUUID();
        await ctx.s3Client.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: `raw/${rawId}.jpg`, Body: megabyte, ContentType: 'image/jpeg' }),
        );
        await sql`insert into images (id, title, description, filename, file_url)
                  values (${rawId}, ${`raw ${rawId}`.slice(0, 32)}, 'bench', 'mb.jpg', ${`${ctx.filesBaseUrl}/raw/${rawId}.jpg`})`;
      },
      1.3,
      async () => {
        next = upload(`u ${n++} ${randomUUID().slice(0, 8)}`);
      },
    ),
  );

  return {
    title: `Warm path, in-process, ${ctx.options.iterations} invocations each, alternating with the raw operations`,
    columns: [['path', 'left'], ['p50', 'right'], ['p99', 'right'], ...AGAINST_RAW],
    rows,
  };
}
