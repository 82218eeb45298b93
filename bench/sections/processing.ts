import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'yaml';
import { VARIANT_SIDES, type VariantName, variantKey, variantKeys } from '../../lib/keys';
import { s3Event } from '../../support/lambda-events';
import { storeOriginal } from '../app';
import { type Bundle, forkServer, type Handled, startBundle } from '../bundles';
import { type BenchContext, BUCKET, type Table } from '../context';
import { type Served, watchEmulator } from '../emulator';
import { grainyPng, heicOf, MIB, photoJpeg } from '../files';
import { median, ms, ratio } from '../stats';

const GOAL = 1.3;
/**
 * Over the highest RSS measured, for what this machine cannot show: arm64's libvips and allocator,
 * Lambda's runtime client in the same process, a container's longer life with more varied images.
 */
const HEADROOM = 1.25;
/** Lambda's memory at which a function has one full vCPU (its CPU share is proportional below and above). */
const ONE_VCPU_MB = 1769;
/** Fresh processes for the largest HEIC (each takes some 10 s): at most this many. */
const LIMIT_RUNS = 3;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

/** An original as the bench gives it: stored as an upload leaves it, and on disk for the baseline. */
interface Input {
  name: string;
  filename: string;
  heic: boolean;
  bytes: Buffer;
  path: string;
}

/** The three originals of the issue, made once per run in the work folder. */
async function makeInputs(folder: string): Promise<Input[]> {
  const jpeg = await input(folder, '12 MP JPEG (4000×3000)', 'photo.jpg', photoJpeg());
  // heif-enc takes 10 to 30 s for 12 MP: once per run.
  const heic = await input(folder, '12 MP HEIC (3000×4000)', 'photo.heic', await heicOf(photoJpeg(3000, 4000), folder));
  const png = await input(folder, '24 MP PNG (6000×4000)', 'large.png', await grainyPng(6000, 4000));
  return [jpeg, heic, png];
}

/**
 * The largest HEIC the service accepts (MAX_IMAGE_PIXELS, 4:3): phones make 48 MP HEICs, and libheif
 * decodes the whole image in its WASM memory, which only grows. Measured for memory only: about a
 * minute of heif-enc, once per run.
 */
async function makeLimitHeic(folder: string): Promise<Input> {
  const { uploadConfig } = await import('../../lib/config');
  const limit = uploadConfig().MAX_IMAGE_PIXELS;
  const width = 16 * Math.floor(Math.sqrt((limit * 4) / 3) / 16);
  const height = 16 * Math.floor((width * 3) / 4 / 16);
  const label = `HEIC at the pixel limit (${width}×${height}, ${((width * height) / 1e6).toFixed(1)} MP)`;
  return input(folder, label, 'limit.heic', await heicOf(photoJpeg(width, height), folder));
}

/** An original written where the baseline reads it. */
async function input(folder: string, label: string, filename: string, bytes: Buffer): Promise<Input> {
  const path = join(folder, filename);
  writeFileSync(path, bytes);
  return { name: `${label}, ${(bytes.byteLength / MIB).toFixed(1)} MiB`, filename, heic: filename.endsWith('.heic'), bytes, path };
}

/** imagesProcess's memory setting, as serverless.yml gives it (MB, which Lambda counts in MiB). */
function configuredMemory(root: string): number {
  const template = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as { functions?: Record<string, { memorySize?: unknown }> };
  const size = template.functions?.imagesProcess?.memorySize;
  if (typeof size !== 'number') throw new Error('serverless.yml gives imagesProcess no memorySize');
  return size;
}

/** What the baseline (bench/bare-sharp.mjs) answers for one image. */
interface BareAnswer {
  ms: number;
  cpuMs: number;
  variants: Record<VariantName, { sha256: string; bytes: number; width: number; height: number }>;
  maxRss: number;
}

/** One warm run of the function: its time, its process's CPU time and highest RSS so far, and the emulator's share. */
interface FunctionRun {
  ms: number;
  cpuMs: number;
  maxRss: number;
  /** s3rver serving the GET of the original. */
  getMs: number;
  /** s3rver serving the two PUTs of the copies, from the first's arrival to the last's end (they overlap). */
  putMs: number;
  /** The Upstash fixture serving the cache invalidation and the event, from the first's arrival to the last's end. */
  redisMs: number;
}

/** Per original: the cold processes (each also measured for memory) and its warm runs. */
interface Measured {
  input: Input;
  cold: { startToDone: number; importMs: number; firstMs: number }[];
  memory: { afterImport: number; coldAbove: number; warmAbove: number; maxRss: number }[];
  warm: FunctionRun[];
  bare: BareAnswer[];
}

/** The warm runs' processes: the function's highest RSS after the mix, then after the largest HEIC; sharp alone's. */
interface Warm {
  images: number;
  mixMaxRss: number;
  limitMaxRss: number;
  bareMaxRss: number;
}

/**
 * Processing: imagesProcess from its zip — the bundle as packaged, with this machine's x64
 * build of sharp's binaries linked in beside Lambda's arm64 ones (bench/bundles.ts) — given S3's
 * ObjectCreated events for a 12 MP JPEG, a 12 MP HEIC and a 30 MB PNG, each stored as an upload leaves
 * it (a new one for every event: a processed image is skipped). Cold: fresh processes, the import and
 * the first event, then a second image of the same kind in the same process, both sampled for memory;
 * also for the largest HEIC accepted. Warm: one process handling the three in turn, image after image
 * as a warm container does, alternating run by run with sharp alone doing the same work on the same
 * file in a process of its own (bench/bare-sharp.mjs), which must make byte-identical copies; at the
 * end, that process is given the largest HEIC twice.
 */
export async function processing(ctx: BenchContext): Promise<Table[]> {
  const bundle = ctx.packaged().functions.find((f) => f.name === 'imagesProcess');
  if (!bundle) throw new Error('npm run package made no imagesProcess bundle');
  const folder = join(ctx.work, 'processing');
  mkdirSync(folder, { recursive: true });
  const measured: Measured[] = (await makeInputs(folder)).map((input) => ({ input, cold: [], memory: [], warm: [], bare: [] }));
  const limit: Measured = { input: await makeLimitHeic(folder), cold: [], memory: [], warm: [], bare: [] };
  const watch = {
    s3: watchEmulator(new URL(ctx.filesBaseUrl).host),
    redis: watchEmulator(new URL(ctx.deployedRedis.UPSTASH_REDIS_REST_URL).host),
  };
  let warm: Warm;
  try {
    // Round-robin, so that a noisy moment of the machine falls on every original alike.
    for (let run = 0; run < ctx.options.coldRuns; run++) {
      for (const m of measured) await coldProcess(ctx, bundle, m);
      if (run < LIMIT_RUNS) await coldProcess(ctx, bundle, limit);
    }
    warm = await warmRuns(ctx, bundle, measured, limit.input, watch);
  } finally {
    watch.s3.stop();
    watch.redis.stop();
  }
  return [timeTable(ctx, measured), breakdownTable(measured), memoryTable(ctx, measured, limit, warm)];
}

/** A new original of `input`, stored as an upload leaves it: its key, its id and S3's event for it. */
async function newImage(input: Input, label: string) {
  const key = await storeOriginal(`${label} ${randomUUID()}`.slice(0, 32), input.filename, input.bytes);
  const id = /^images\/([0-9a-f-]{36})\./.exec(key)?.[1] ?? '';
  return { key, id, event: s3Event(BUCKET, key, input.bytes.byteLength) };
}

/** Throws unless the function made the image's copies; then deletes its objects (the rows stay), so the disk does not fill. */
async function checkAndClean(ctx: BenchContext, image: { key: string; id: string }): Promise<void> {
  const [row] = await ctx.sql<{ processing: string }[]>`select processing from images where id = ${image.id}`;
  if (row?.processing !== 'ready') throw new Error(`imagesProcess left ${image.key} ${row?.processing ?? 'without its row'}, not ready`);
  for (const key of [image.key, ...variantKeys(image.id)]) await ctx.s3Client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

/** One fresh process: the import, the first event (the cold start), then a second image (warm); both sampled for memory. */
async function coldProcess(ctx: BenchContext, bundle: Bundle, m: Measured): Promise<void> {
  const first = await newImage(m.input, 'cold');
  const second = await newImage(m.input, 'warm');
  const fn = await startBundle(ctx, bundle, { env: ctx.deployedRedis, nodeArgs: ['--expose-gc'] });
  let cold: Handled;
  let warm: Handled;
  try {
    cold = await fn.handle(first.event, true);
    warm = await fn.handle(second.event, true);
  } finally {
    fn.stop();
  }
  await checkAndClean(ctx, first);
  await checkAndClean(ctx, second);
  // The driver waits for a GC after the import, before the first event: not part of the cold start.
  // The sampling during the event costs it well under 1% (an RSS read, some 3 µs, every millisecond).
  m.cold.push({ startToDone: fn.ready.sinceProcessStartMs + cold.ms, importMs: fn.ready.importMs, firstMs: cold.ms });
  const n = (value: number | undefined) => value ?? 0;
  m.memory.push({
    afterImport: n(cold.rssBefore),
    coldAbove: n(cold.rssPeak) - n(cold.rssBefore),
    warmAbove: n(warm.rssPeak) - n(warm.rssBefore),
    maxRss: warm.maxRss,
  });
}

/**
 * The warm runs: the function in one process, sharp alone in another, the three originals in turn,
 * alternating run by run; each timed in its own process (the messages between them are not). One
 * untimed run of each original first (the function's cold start, the baseline's loading of its
 * libraries), whose copies must be the same bytes. Then the function's process, after all that, is
 * given the largest HEIC accepted, twice (memory only).
 */
async function warmRuns(ctx: BenchContext, bundle: Bundle, measured: Measured[], limit: Input, watch: Watch): Promise<Warm> {
  const fn = await startBundle(ctx, bundle, { env: ctx.deployedRedis });
  const bare = await forkServer<{ ready: true }, BareAnswer>(join(ctx.root, 'bench', 'bare-sharp.mjs'), [], { cwd: ctx.root });
  const sharpAlone = (input: Input) => bare.ask({ path: input.path, heic: input.heic, sides: VARIANT_SIDES });
  try {
    for (const { input } of measured) await checkSameCopies(ctx, input, fn, await sharpAlone(input));
    for (let i = 0; i < ctx.options.processingIterations; i++) {
      for (const m of measured) {
        m.warm.push(await functionRun(ctx, m.input, fn, watch));
        m.bare.push(await sharpAlone(m.input));
      }
    }
    const mixMaxRss = Math.max(...measured.flatMap((m) => m.warm.map((w) => w.maxRss)));
    let limitMaxRss = 0;
    for (let i = 0; i < 2; i++) {
      const image = await newImage(limit, 'limit');
      limitMaxRss = (await fn.handle(image.event)).maxRss;
      await checkAndClean(ctx, image);
    }
    return {
      images: measured.length * (ctx.options.processingIterations + 1),
      mixMaxRss,
      limitMaxRss,
      bareMaxRss: Math.max(...measured.flatMap((m) => m.bare.map((b) => b.maxRss))),
    };
  } finally {
    fn.stop();
    bare.stop();
  }
}

type Running = Awaited<ReturnType<typeof startBundle>>;

/** The emulator and the Upstash fixture, their requests timed as they serve them (both run in this process). */
interface Watch {
  s3: ReturnType<typeof watchEmulator>;
  redis: ReturnType<typeof watchEmulator>;
}

/** One image through the function, with the emulator's and the fixture's shares of its time. */
async function functionRun(ctx: BenchContext, input: Input, fn: Pick<Running, 'handle'>, watch: Watch): Promise<FunctionRun> {
  const image = await newImage(input, 'warm');
  watch.s3.take();
  watch.redis.take();
  const handled = await fn.handle(image.event);
  const served = watch.s3.take();
  const redis = watch.redis.take();
  await checkAndClean(ctx, image);
  const gets = served.filter((s) => s.kind === 'get');
  const puts = served.filter((s) => s.kind === 'put');
  if (gets.length !== 1 || puts.length !== 2) {
    throw new Error(`imagesProcess made ${served.map((s) => s.kind).join(', ')} on the emulator, not one GET and two PUTs`);
  }
  const span = (requests: Served[]) =>
    requests.length > 0 ? Math.max(...requests.map((s) => s.end)) - Math.min(...requests.map((s) => s.start)) : 0;
  return { ms: handled.ms, cpuMs: handled.cpuMs, maxRss: handled.maxRss, getMs: gets[0]?.ms ?? 0, putMs: span(puts), redisMs: span(redis) };
}

/** Throws unless the function's stored copies are the bytes sharp alone made: the baseline does the same work. */
async function checkSameCopies(ctx: BenchContext, input: Input, fn: Pick<Running, 'handle'>, alone: BareAnswer): Promise<void> {
  const image = await newImage(input, 'check');
  await fn.handle(image.event);
  for (const name of Object.keys(VARIANT_SIDES) as VariantName[]) {
    const out = await ctx.s3Client.send(new GetObjectCommand({ Bucket: BUCKET, Key: variantKey(image.id, name) }));
    const stored = createHash('sha256')
      .update((await out.Body?.transformToByteArray()) ?? new Uint8Array())
      .digest('hex');
    if (stored !== alone.variants[name].sha256) {
      throw new Error(
        `${input.name}: the function's ${name} differs from sharp alone's: bench/bare-sharp.mjs no longer does what lib/variants/make.ts does`,
      );
    }
  }
  await checkAndClean(ctx, image);
}

function timeTable(ctx: BenchContext, measured: Measured[]): Table {
  const runs = ctx.options.processingIterations;
  return {
    title: `Processing: imagesProcess from its zip (x64 sharp here), cold (median of ${ctx.options.coldRuns} processes) and warm (${runs} runs) against sharp alone, alternating`,
    note:
      'Cold: a fresh process imports the bundle and handles its first event. Warm: one process handles image after image, the three in turn (a new ' +
      'upload each), alternating run by run with sharp alone (bench/bare-sharp.mjs: the file read from disk, decoded — a HEIC by libheif — and both ' +
      'copies made as lib/variants/make.ts makes them, byte-identical) in a process of its own; each timed in its own process.',
    columns: [
      ['original', 'left'],
      ['cold: process start → processed', 'right'],
      ['import', 'right'],
      ['first event', 'right'],
      ['warm p50', 'right'],
      ['sharp alone p50', 'right'],
      ['ratio p50', 'right'],
      [`goal ≤ ${GOAL}x`, 'left'],
    ],
    rows: measured.map(({ input, cold, warm, bare }) => {
      const r = median(warm.map((w) => w.ms)) / median(bare.map((b) => b.ms));
      return [
        input.name,
        ms(median(cold.map((c) => c.startToDone))),
        ms(median(cold.map((c) => c.importMs))),
        ms(median(cold.map((c) => c.firstMs))),
        ms(median(warm.map((w) => w.ms))),
        ms(median(bare.map((b) => b.ms))),
        `${r.toFixed(2)}x`,
        r <= GOAL ? 'met' : 'NOT met',
      ];
    }),
  };
}

function breakdownTable(measured: Measured[]): Table {
  const rest = (w: FunctionRun) => w.ms - w.getMs - w.putMs - w.redisMs;
  const p50 = (pick: (m: Measured) => number[]) => measured.map((m) => pick(m));
  const rows: [string, number[][], (values: number[]) => string][] = [
    ['imagesProcess, warm', p50((m) => m.warm.map((w) => w.ms)), (v) => ms(median(v))],
    ['  of which s3rver: GET of the original', p50((m) => m.warm.map((w) => w.getMs)), (v) => ms(median(v))],
    [
      '  s3rver: PUT of the two copies (they overlap: first arrival to last end)',
      p50((m) => m.warm.map((w) => w.putMs)),
      (v) => ms(median(v)),
    ],
    [
      '  Upstash fixture: the cache invalidation and the event (they overlap)',
      p50((m) => m.warm.map((w) => w.redisMs)),
      (v) => ms(median(v)),
    ],
    ['  the rest: decode, resize, encode; SELECT, UPDATE; the SDK', p50((m) => m.warm.map(rest)), (v) => ms(median(v))],
    ['sharp alone: read from disk, decode, resize, encode', p50((m) => m.bare.map((b) => b.ms)), (v) => ms(median(v))],
    ["CPU time of the function's process (all threads)", p50((m) => m.warm.map((w) => w.cpuMs)), (v) => ms(median(v))],
    ["CPU time of sharp alone's process (all threads)", p50((m) => m.bare.map((b) => b.cpuMs)), (v) => ms(median(v))],
  ];
  const restRatio = measured.map((m) => ratio(median(m.warm.map(rest)), median(m.bare.map((b) => b.ms))));
  return {
    title: "Processing: where the warm function's time goes (p50 of each over the same runs)",
    note:
      "s3rver's and the Upstash fixture's shares are each request from its arrival to its response's end (node:http's diagnostics channels: both run in " +
      "the bench's process); the rest is, run by run, the function's time less those.",
    columns: [['step', 'left'], ...measured.map(({ input }): [string, 'right'] => [input.name, 'right'])],
    rows: [...rows.map(([label, values, format]) => [label, ...values.map(format)]), ['the rest against sharp alone', ...restRatio]],
  };
}

function memoryTable(ctx: BenchContext, measured: Measured[], limit: Measured, warm: Warm): Table {
  const highestOf = (values: number[]) => Math.max(...values);
  const cell = (values: number[]) => `${mib(median(values))} (highest ${mib(highestOf(values))})`;
  const headroom = (bytes: number) => Math.ceil((bytes * HEADROOM) / (128 * MIB)) * 128;
  const ofThree = highestOf([...measured.flatMap((m) => m.memory.map((x) => x.maxRss)), warm.mixMaxRss]);
  const highest = highestOf([ofThree, ...limit.memory.map((x) => x.maxRss), warm.limitMaxRss]);
  const configured = configuredMemory(ctx.root);
  const covered = configured * MIB >= highest * HEADROOM;
  const percent = `${Math.round((HEADROOM - 1) * 100)}%`;
  return {
    title: `Processing: imagesProcess's memory (${ctx.options.coldRuns} fresh processes per original, ${Math.min(LIMIT_RUNS, ctx.options.coldRuns)} for the largest HEIC: the cold event, then a second image, warm)`,
    note:
      'RSS after the import: Node, the bundle and sharp (libvips) loaded, after a GC. The peaks are sampled at every turn of the event loop, above the ' +
      "resident set just before the event; the process's highest RSS is the kernel's maxRSS (Lambda's limit applies to the whole sandbox, of which this " +
      'process is nearly all). Default malloc, as on Lambda.',
    columns: [
      ['original', 'left'],
      ['RSS after the import', 'right'],
      ['peak above it, cold event', 'right'],
      ['peak above the baseline, warm event', 'right'],
      ["the process's highest RSS", 'right'],
    ],
    rows: [...measured, limit].map(({ input, memory }) => [
      input.name,
      cell(memory.map((x) => x.afterImport)),
      cell(memory.map((x) => x.coldAbove)),
      cell(memory.map((x) => x.warmAbove)),
      cell(memory.map((x) => x.maxRss)),
    ]),
    after: [
      '',
      `The warm runs' process, a warm container's life: ${mib(warm.mixMaxRss)} after ${warm.images} images (the three in turn), ` +
        `${mib(warm.limitMaxRss)} after two HEICs at the pixel limit more. Sharp alone's, after the same ${warm.images}: ${mib(warm.bareMaxRss)}.`,
      `With ${percent} headroom, rounded up to a multiple of 128 MB: ${headroom(ofThree)} MB for the three originals, ` +
        `${headroom(highest)} MB for every image the service accepts (the highest RSS of any process: ${mib(highest)}).`,
      `serverless.yml gives imagesProcess ${configured} MB (${(configured / ONE_VCPU_MB).toFixed(2)} vCPU; one full vCPU at ${ONE_VCPU_MB} MB): ` +
        `${((configured * MIB) / highest).toFixed(2)}x the highest RSS, ${covered ? `which covers it with ${percent} headroom (met)` : `which does NOT cover it with ${percent} headroom`}.`,
    ],
  };
}
