/** Percentiles, their formatting and the timing loops, for the bench and the load test alike. */

/** The value at percentile `p` (0 to 100) of `values` (nearest rank); 0 when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const median = (values: number[]): number => percentile(values, 50);

/** Milliseconds as the bench's tables write them: `12.34 ms`. */
export const ms = (n: number): string => `${n.toFixed(2)} ms`;

/** `a` as a multiple of `b`: `1.23x`. */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

/** Times `step` `n` times, one after the other; `before` runs ahead of each step, untimed. */
export async function time(n: number, step: (i: number) => Promise<unknown>, before?: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (before) await before(i);
    const t = performance.now();
    await step(i);
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * Times `a` and `b` `n` times each, alternating, so that both see the same moments of a noisy
 * machine; `before` runs ahead of every timed call, untimed.
 */
export async function alternate(
  n: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  before: () => Promise<unknown> = async () => {},
): Promise<[number[], number[]]> {
  const timesA: number[] = [];
  const timesB: number[] = [];
  for (let i = 0; i < n; i++) {
    timesA.push(...(await time(1, a, before)));
    timesB.push(...(await time(1, b, before)));
  }
  return [timesA, timesB];
}
