import { randomUUID } from 'node:crypto';
import { makeJpeg } from '../../support/images';
import { runDriver } from '../bundles';
import { uploadEvents, type BenchContext, type Table } from '../context';
import { median, ratio } from '../stats';

const LIMIT = 4 * 1024 * 1024;
const RUNS = 3;
const mib = (bytes: number, digits: number) => `${(bytes / 1024 / 1024).toFixed(digits)} MiB`;

/** Memory: the bundled upload function, warm, handling a file at the size limit; its peak above idle. */
export async function memory(ctx: BenchContext): Promise<Table> {
  const createBundle = ctx.packaged().functions.find((f) => f.name === 'imagesCreate');
  if (!createBundle) throw new Error('npm run package made no imagesCreate bundle');
  const jpeg = makeJpeg(64, 48);
  const upload = await uploadEvents('memory', { bytes: Buffer.concat([jpeg, Buffer.alloc(LIMIT - jpeg.length)]), filename: 'limit.jpg' });
  const peaks: { above: number; live: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { result, stderr } = await runDriver(ctx, {
      bundle: createBundle,
      // The warm-up is a file at the limit too: the heap has grown to its working size and the code
      // paths are compiled, so what is measured is what each such request costs.
      events: [upload(`warm ${randomUUID().slice(0, 8)}`), upload(`limit ${randomUUID().slice(0, 8)}`)],
      mode: 'memory',
      nodeArgs: ['--expose-gc'],
      // Large blocks straight from mmap and back to the system when freed, so that memory freed
      // while the event was read is not silently reused and the RSS tracks what the request holds.
      env: { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '0', ...ctx.deployedRedis },
    });
    if (result.status !== 201) throw new Error(`memory run answered ${result.status}: ${stderr}`);
    peaks.push({ above: Number(result.peak) - Number(result.baseline), live: Number(result.livePeak) - Number(result.liveBaseline) });
  }
  const above = median(peaks.map((p) => p.above));
  const live = median(peaks.map((p) => p.live));
  return {
    title: `Memory: the bundled upload function, warm, handling a file at the 4 MiB limit (median of ${RUNS})`,
    columns: [
      ['file', 'right'],
      ['peak RSS above the idle baseline', 'right'],
      ['ratio (goal ≤ 4x)', 'right'],
      ['peak heap + external above baseline', 'right'],
      ['ratio', 'right'],
    ],
    rows: [[mib(LIMIT, 0), mib(above, 1), ratio(above, LIMIT), mib(live, 1), ratio(live, LIMIT)]],
  };
}
