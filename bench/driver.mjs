// Run by the bench (bench/bundles.ts) in a fresh Node process: imports one bundled handler, serves one request (or
// more), and prints what it measured as one JSON line. Arguments: bundle path, event file, mode.
//   mode "cold":   import, then one request (or a scheduled event: what the handler returned is printed,
//                  as it has no status).
//   mode "memory": import, one warm-up request (like the measured one), then the measured request;
//                  prints the resident set before it and the peak sampled during it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, mode = 'cold'] = process.argv.slice(2);
const events = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'bench',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 10_000,
  callbackWaitsForEmptyEventLoop: false,
};

const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();

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
  // peak is sampled instead: at every turn of the event loop (Buffers are freed only by a GC, so
  // what the request held at its fullest is still there at the next sample).
  const live = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const baseline = process.memoryUsage.rss();
  const liveBaseline = live();
  let peak = baseline;
  let livePeak = liveBaseline;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
    livePeak = Math.max(livePeak, live());
  };
  const sampler = setInterval(sample, 1);
  const res = await handler(events[1], context);
  sample();
  clearInterval(sampler);
  process.stdout.write(
    `${JSON.stringify({ warmStatus: warm.statusCode, status: res.statusCode, baseline, peak, liveBaseline, livePeak })}\n`,
  );
}
process.exit(0);
