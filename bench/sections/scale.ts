import { httpEvent } from '../../support/lambda-events';
import { seed, type BenchContext, type Table } from '../context';
import { median, ms, ratio, time } from '../stats';

/**
 * Scale: the list's first page and a page from the middle (by cursor), timed at 1,000 rows and at
 * 100,000, and the plan of the keyset query at 100,000.
 */
export async function scale(ctx: BenchContext): Promise<Table> {
  const { handlers, call, listEvent } = await ctx.app();
  const { sql } = ctx;
  const n = ctx.options.iterations;
  const pageAt = async () => {
    const first = await time(n, () => call(handlers.list, listEvent, 200));
    const [mid] = await sql<{ created_at: string; id: string }[]>`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') as created_at, id
      from images order by created_at desc, id desc offset (select count(*) / 2 from images) limit 1`;
    const cursor = Buffer.from(`${mid?.created_at}|${mid?.id}`).toString('base64url');
    const deepEvent = httpEvent({ method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query: { limit: '50', cursor } });
    const deep = await time(n, () => call(handlers.list, deepEvent, 200));
    return { first, deep, cursor: mid };
  };

  await sql`delete from images`;
  await seed(ctx, 1000);
  await sql`analyze images`;
  const small = await pageAt();
  await seed(ctx, 99_000);
  await sql`analyze images`;
  const big = await pageAt();
  const plan = await sql.unsafe(
    `explain (analyze, costs off, timing off, summary off) select id from images where (created_at, id) < ($1::timestamptz, $2::uuid) order by created_at desc, id desc limit 51`,
    [big.cursor?.created_at ?? '', big.cursor?.id ?? ''],
  );
  const row = (page: string, at1k: number[], at100k: number[]) => [page, ms(median(at1k)), ms(median(at100k)), ratio(median(at100k), median(at1k))];
  return {
    title: `Scale: list pages of 50 at 1,000 rows and at 100,000 rows (${n} each)`,
    columns: [
      ['page', 'left'],
      ['p50 at 1,000', 'right'],
      ['p50 at 100,000', 'right'],
      ['ratio (goal ≤ 1.2x)', 'right'],
    ],
    rows: [row('first page', small.first, big.first), row('a page from the middle (cursor)', small.deep, big.deep)],
    after: ['', 'EXPLAIN of the keyset query at 100,000 rows:', '```', ...plan.map((line) => String(Object.values(line)[0])), '```'],
  };
}
