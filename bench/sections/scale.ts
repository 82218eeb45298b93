import { boundSql, listPageEvent, PAGE_SIZE } from '../app';
import { type BenchContext, seed, type Table } from '../context';
import { median, ms, ratio, time } from '../stats';

/**
 * Scale: the list's first page and a page from the middle (by cursor), timed at 1,000 rows and at
 * 100,000 (BENCH_SCALE_ROWS), and the plan of the keyset query there.
 */
export async function scale(ctx: BenchContext): Promise<Table> {
  const { handlers, call, listEvent, readQueries, encodeCursor } = await ctx.app();
  const { sql } = ctx;
  const n = ctx.options.iterations;
  const pageAt = async () => {
    const first = await time(n, () => call(handlers.list, listEvent, 200));
    // The image in the middle, as the list orders them: the last of a first page that long.
    const [count] = await sql<{ n: number }[]>`select count(*)::int as n from images`;
    const mid = (await readQueries().firstPage.execute({ limit: Math.floor((count?.n ?? 0) / 2) + 1 })).at(-1);
    if (!mid) throw new Error('no images to page through');
    const cursor = encodeCursor({ createdAt: mid.created_at, id: mid.id });
    const deepEvent = listPageEvent(cursor);
    const deep = await time(n, () => call(handlers.list, deepEvent, 200));
    return { first, deep, mid };
  };

  await sql`delete from images`;
  await seed(ctx, 1000);
  await sql`analyze images`;
  const small = await pageAt();
  await seed(ctx, ctx.options.scaleRows - 1000);
  await sql`analyze images`;
  const big = await pageAt();
  // The query the list runs for a page after a cursor, bound as it binds it.
  const keyset = boundSql(readQueries().pageAfter, { createdAt: big.mid.created_at, id: big.mid.id, limit: PAGE_SIZE + 1 });
  const plan = await sql.unsafe(`explain (analyze, costs off, timing off, summary off) ${keyset.text}`, keyset.params);
  const large = ctx.options.scaleRows.toLocaleString('en');
  const row = (page: string, at1k: number[], at100k: number[]) => [
    page,
    ms(median(at1k)),
    ms(median(at100k)),
    ratio(median(at100k), median(at1k)),
  ];
  return {
    title: `Scale: list pages of ${PAGE_SIZE} at 1,000 rows and at ${large} rows (${n} each)`,
    columns: [
      ['page', 'left'],
      ['p50 at 1,000', 'right'],
      [`p50 at ${large}`, 'right'],
      ['ratio (goal ≤ 1.2x)', 'right'],
    ],
    rows: [row('first page', small.first, big.first), row('a page from the middle (cursor)', small.deep, big.deep)],
    after: ['', `EXPLAIN of the keyset query at ${large} rows:`, '```', ...plan.map((line) => String(Object.values(line)[0])), '```'],
  };
}
