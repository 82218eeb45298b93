// Run by the bench (bench/bundles.ts) in a fresh Node process: imports one bundled handler, serves one request (or
// more), and prints what it measured as one JSON line. Arguments: bundle path, mode, event file (not in mode "serve").
//   mode "cold":   import, then one request (or a scheduled event: what the handler returned is printed,
//                  as it has no status).
//   mode "memory": import, one warm-up request (like the measured one), then the measured request;
//                  prints the resident set before it and the peak sampled during it.
//   mode "serve":  import, say so over the IPC channel (the process is forked), then handle each event
//                  sent over it, one at a time, answering with its time, the CPU time the process spent
//                  meanwhile, the process's lifetime peak (maxRSS) and, when asked, the resident set
//                  after a GC (with --expose-gc) before the event and the peak sampled during it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, mode = 'cold', eventFile] = process.argv.slice(2);
const context = {
  awsRequestId: 'bench',
  functionName: 'bench',
  // The longest timeout of serverless.yml's functions: a scheduled one budgets its work by it.
  getRemainingTimeInMillis: () => 60_000,
  callbackWaitsForEmptyEventLoop: false,
};

const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();

/**
 * Samples the resident set at every turn of the event loop until `stop`, which returns the highest.
 * Buffers are freed only by a GC, so what a request held at its fullest is still there at the next
 * sample; work on the main thread that does not yield (a WASM decode) is seen when it has finished,
 * and the process's maxRSS covers it exactly.
 */
function sampleRss(extra = () => 0) {
  let peak = process.memoryUsage.rss();
  let extraPeak = extra();
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
    extraPeak = Math.max(extraPeak, extra());
  };
  const sampler = setInterval(sample, 1);
  return () => {
    sample();
    clearInterval(sampler);
    return { peak, extraPeak };
  };
}

if (mode === 'serve') {
  process.send({ ready: true, importMs: imported - started, sinceProcessStartMs: imported });
  process.on('disconnect', () => process.exit(0));
  process.on('message', async ({ event, memory }) => {
    try {
      let before;
      let stop;
      if (memory) {
        globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 50));
        globalThis.gc?.();
        before = process.memoryUsage.rss();
        stop = sampleRss();
      }
      const cpu = process.cpuUsage();
      const t = performance.now();
      const returned = await handler(event, context);
      const ms = performance.now() - t;
      const { user, system } = process.cpuUsage(cpu);
      const rss = stop && { rssBefore: before, rssPeak: stop().peak };
      process.send({
        ms,
        cpuMs: (user + system) / 1000,
        returned: returned ?? null,
        maxRss: process.resourceUsage().maxRSS * 1024,
        ...rss,
      });
    } catch (err) {
      process.send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
} else {
  const events = JSON.parse(readFileSync(eventFile, 'utf8'));
  if (mode === 'cold') {
    const res = await handler(events[0], context);
    const done = performance.now();
    const answer = res?.statusCode === undefined ? { returned: res } : { status: res.statusCode };
    process.stdout.write(
      `${JSON.stringify({ ...answer, importMs: imported - started, firstRequestMs: done - imported, sinceProcessStartMs: done })}\n`,
    );
  } else {
    const warm = await handler(events[0], context);
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 50));
    globalThis.gc?.();
    // The process's lifetime peak (maxRSS) is set by reading the events file, so the request's own
    // peak is sampled instead.
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    };
    const baseline = process.memoryUsage.rss();
    const liveBaseline = live();
    const stop = sampleRss(live);
    const res = await handler(events[1], context);
    const { peak, extraPeak: livePeak } = stop();
    process.stdout.write(
      `${JSON.stringify({ warmStatus: warm.statusCode, status: res.statusCode, baseline, peak, liveBaseline, livePeak })}\n`,
    );
  }
  process.exit(0);
}
