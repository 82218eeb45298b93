import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { httpEvent, lambdaContext } from '../../support/lambda-events';
import type { BenchContext, Table } from '../context';
import { median, ms, ratio, time } from '../stats';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

const context = lambdaContext();
const PAGE = '50';

/** Invokes a handler as API Gateway does; throws unless it answers `expected`. */
async function call(handler: Handler, event: APIGatewayProxyEventV2, expected: number): Promise<APIGatewayProxyStructuredResultV2> {
  const res = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  if (res.statusCode !== expected) throw new Error(`expected ${expected}, got ${res.statusCode}: ${res.body}`);
  return res;
}

const json = (method: string, path: string, route: string, body: unknown) =>
  httpEvent({ method, path, route, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * Adds `count` images after the `from` already there, shaped like a phone's camera roll: two in
 * three say when they were taken (scattered over five years, out of upload order), one in a hundred
 * has "Sunset beach" in its title, and one in ten is in the album.
 */
async function seedGallery(ctx: BenchContext, from: number, count: number, albumId: string): Promise<void> {
  const tag = Math.random().toString(36).slice(2, 8);
  await ctx.sql`
    insert into images (id, title, description, filename, file_url, created_at, updated_at,
                        taken_at, taken_local, search_title, search_description)
    select gen_random_uuid(), s.title, 'seeded', 'seed.jpg', ${`${ctx.filesBaseUrl}/images/`} || s.n || '.jpg',
           now() - s.n * interval '1 millisecond', now(),
           to_char(s.taken, 'YYYY-MM-DD"T"HH24:MI:SS'), s.taken, lower(s.title), 'seeded'
    from (
      select n,
             case when n % 100 = 0 then 'Sunset beach ' else 'Photo ' end || n || ' ' || ${tag} as title,
             case when n % 3 <> 0
                  then timestamp '2021-01-01' + ((n::bigint * 2654435761) % (5 * 365 * 86400)) * interval '1 second' end as taken
      from generate_series(${from + 1}::int, ${from + count}::int) as n
    ) as s`;
  await ctx.sql`
    insert into album_images (album_id, image_id, image_created_at, image_taken_sort)
    select ${albumId}, id, created_at, taken_sort from images
    where split_part(title, ' ', -2)::int % 10 = 0
    on conflict do nothing`;
  await ctx.sql`analyze images`;
  await ctx.sql`analyze album_images`;
}

/**
 * The list in each of its shapes (each sort, each filter, an album, a search) at 1,000 and at
 * 100,000 images (BENCH_SCALE_ROWS), through the real handlers; and what a viewer's page of an album share costs
 * against the owner's page of the same album.
 */
export async function lists(ctx: BenchContext): Promise<Table[]> {
  const n = ctx.options.iterations;
  const handlers = {
    list: (await import('../../functions/images-list')).handler as Handler,
    shared: (await import('../../functions/shared-images-list')).handler as Handler,
    albumCreate: (await import('../../functions/albums-create')).handler as Handler,
    shareCreate: (await import('../../functions/shares-create')).handler as Handler,
  };
  await ctx.sql`delete from images`;
  await ctx.sql`delete from albums`;
  const album = JSON.parse(
    (await call(handlers.albumCreate, json('POST', '/api/v1/albums/', 'POST /api/v1/albums', { title: `bench ${Date.now()}` }), 201))
      .body as string,
  ) as { id: string };
  const share = JSON.parse(
    (await call(handlers.shareCreate, json('POST', '/api/v1/shares/', 'POST /api/v1/shares', { album_id: album.id }), 201)).body as string,
  ) as { token: string };

  const owner = (query: Record<string, string>) =>
    httpEvent({ method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query: { limit: PAGE, ...query } });
  const viewer = (query: Record<string, string>) =>
    httpEvent({
      method: 'GET',
      path: `/api/v1/shared/${share.token}/images`,
      route: 'GET /api/v1/shared/{token}/images',
      pathParameters: { token: share.token },
      query: { limit: PAGE, ...query },
    });
  const shapes: [string, Handler, APIGatewayProxyEventV2][] = [
    ['all, sort=created', handlers.list, owner({})],
    ['all, sort=taken', handlers.list, owner({ sort: 'taken' })],
    ['album=<id>', handlers.list, owner({ album: album.id })],
    ['album=<id>, sort=taken', handlers.list, owner({ album: album.id, sort: 'taken' })],
    ['taken_from/taken_to (a year)', handlers.list, owner({ taken_from: '2022-01-01', taken_to: '2022-12-31' })],
    ['taken_from/taken_to, sort=taken', handlers.list, owner({ taken_from: '2022-01-01', taken_to: '2022-12-31', sort: 'taken' })],
    ['q=sun bea (1 in 100 match)', handlers.list, owner({ q: 'sun bea' })],
    ['q=sun bea, sort=taken', handlers.list, owner({ q: 'sun bea', sort: 'taken' })],
    ['viewer: album share', handlers.shared, viewer({})],
    ['viewer: album share, sort=taken', handlers.shared, viewer({ sort: 'taken' })],
  ];
  const measure = async () => {
    const p50: number[] = [];
    for (const [, handler, event] of shapes) {
      await time(Math.min(n, 20), () => call(handler, event, 200));
      p50.push(median(await time(n, () => call(handler, event, 200))));
    }
    return p50;
  };

  await seedGallery(ctx, 0, 1000, album.id);
  const small = await measure();
  const rows = ctx.options.scaleRows;
  await seedGallery(ctx, 1000, rows - 1000, album.id);
  const big = await measure();

  const byShape = shapes.map(([name], i) => [name, ms(small[i] ?? 0), ms(big[i] ?? 0), ratio(big[i] ?? 0, small[i] ?? 1)]);
  const at = (p50: number[], name: string) => p50[shapes.findIndex(([shape]) => shape === name)] ?? 0;
  const viewerRow = (scale: string, p50: number[], ownerShape: string, viewerShape: string) => [
    `${viewerShape} vs ${ownerShape}, ${scale}`,
    ms(at(p50, ownerShape)),
    ms(at(p50, viewerShape)),
    ratio(at(p50, viewerShape), at(p50, ownerShape)),
  ];
  return [
    {
      title: `Lists: a page of ${PAGE} in each sort and filter, at 1,000 and at ${rows.toLocaleString('en')} images (${n} each, p50)`,
      columns: [
        ['list', 'left'],
        ['at 1,000', 'right'],
        [`at ${rows.toLocaleString('en')}`, 'right'],
        ['ratio (goal ≤ 1.5x)', 'right'],
      ],
      rows: byShape,
    },
    {
      title: `Shares: a viewer's page of an album share against the owner's page of the album (${n} each, p50)`,
      columns: [
        ['pages', 'left'],
        ['owner', 'right'],
        ['viewer', 'right'],
        ['ratio (goal ≤ 1.3x)', 'right'],
      ],
      rows: [
        viewerRow('1,000 images', small, 'album=<id>', 'viewer: album share'),
        viewerRow(`${rows.toLocaleString('en')} images`, big, 'album=<id>', 'viewer: album share'),
        viewerRow('1,000 images', small, 'album=<id>, sort=taken', 'viewer: album share, sort=taken'),
        viewerRow(`${rows.toLocaleString('en')} images`, big, 'album=<id>, sort=taken', 'viewer: album share, sort=taken'),
      ],
    },
  ];
}
