import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { runDriver } from '../bundles';
import { type BenchContext, completeUploadEvent, type Table, uploadEvents } from '../context';
import { MIB, paddedJpeg } from '../files';
import { median, ratio } from '../stats';

const LIMIT = 4 * MIB;
const DIRECT = 50 * MIB;
const RUNS = 5;
const mib = (bytes: number, digits: number) => `${(bytes / MIB).toFixed(digits)} MiB`;

/** One function's case: a file, the pair of events (a warm-up like the measured one, then it), and its goal. */
interface Case {
  bundle: string;
  name: string;
  fileBytes: number;
  events: () => Promise<APIGatewayProxyEventV2[]>;
  goal: string;
  met: (rssAbove: number) => boolean;
}

/**
 * Memory: bundled functions, warm, each in its own process (bench/driver.mjs) handling one large
 * request; the peak above the idle baseline. The upload at the 4 MiB limit (the multipart parser
 * holds the file) and the completion of a 50 MiB direct upload (it streams the object).
 */
export async function memory(ctx: BenchContext): Promise<Table> {
  const bundle = (name: string) => {
    const found = ctx.packaged().functions.find((f) => f.name === name);
    if (!found) throw new Error(`npm run package made no ${name} bundle`);
    return found;
  };
  const upload = await uploadEvents('memory', { bytes: paddedJpeg(LIMIT), filename: 'limit.jpg' });
  const uploads = await ctx.uploads();
  const direct = { bytes: paddedJpeg(DIRECT), filename: 'large.jpg', contentType: 'image/jpeg' };
  /** A completion's event for a pending upload whose 50 MiB object is already in the bucket. */
  const completion = async (title: string) => completeUploadEvent(await uploads.pending(`${title} ${randomUUID()}`.slice(0, 32), direct));
  const cases: Case[] = [
    {
      bundle: 'imagesCreate',
      name: 'imagesCreate: a multipart upload at the 4 MiB limit',
      fileBytes: LIMIT,
      // The warm-up is a file at the limit too: the heap has grown to its working size and the code
      // paths are compiled, so what is measured is what each such request costs.
      events: async () => [upload(`warm ${randomUUID().slice(0, 8)}`), upload(`limit ${randomUUID().slice(0, 8)}`)],
      goal: '≤ 4x the file',
      met: (above) => above <= 4 * LIMIT,
    },
    {
      bundle: 'uploadsComplete',
      name: 'uploadsComplete: a 50 MiB direct upload',
      fileBytes: DIRECT,
      // Warmed up by completing another 50 MiB upload, for the same reason.
      events: async () => [await completion('warm'), await completion('large')],
      goal: '< 64 MiB above baseline',
      met: (above) => above < 64 * MIB,
    },
  ];

  const rows: string[][] = [];
  for (const c of cases) {
    const peaks: { above: number; live: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { result, stderr } = await runDriver(ctx, {
        bundle: bundle(c.bundle),
        events: await c.events(),
        mode: 'memory',
        nodeArgs: ['--expose-gc'],
        // Large blocks straight from mmap and back to the system when freed, so that memory freed
        // while the event was read is not silently reused and the RSS tracks what the request holds.
        env: { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '0', ...ctx.deployedRedis },
      });
      if (result.warmStatus !== 201 || result.status !== 201) {
        throw new Error(`${c.bundle} memory run answered ${result.warmStatus}, ${result.status}: ${stderr}`);
      }
      peaks.push({ above: Number(result.peak) - Number(result.baseline), live: Number(result.livePeak) - Number(result.liveBaseline) });
    }
    const above = median(peaks.map((p) => p.above));
    const highest = Math.max(...peaks.map((p) => p.above));
    const live = median(peaks.map((p) => p.live));
    rows.push([
      c.name,
      `${mib(above, 1)} (highest ${mib(highest, 1)})`,
      ratio(above, c.fileBytes),
      mib(live, 1),
      ratio(live, c.fileBytes),
      `${c.goal} ${c.met(highest) ? '(met)' : '(NOT met)'}`,
    ]);
  }
  return {
    title: `Memory: bundled functions, warm, each handling one large request (median of ${RUNS} processes)`,
    note: "The completion's peak RSS varies widely between processes, so the goals are judged on the highest run.",
    columns: [
      ['function and request', 'left'],
      ['peak RSS above the idle baseline', 'right'],
      ['× the file', 'right'],
      ['peak heap + external above baseline', 'right'],
      ['× the file', 'right'],
      ['goal (RSS, highest run)', 'left'],
    ],
    rows,
  };
}
