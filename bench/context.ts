/**
 * What the bench's sections share: the services (bench/services.ts), what is prepared once on first
 * use (the packaged functions, the app warmed up in this process), and the shape of their tables.
 */

import type { UploadClient, WarmApp } from './app';
import type { Packaged } from './bundles';
import type { Services } from './services';

export {
  BENCH_API_KEY,
  BENCH_SHARE_TOKEN_SECRET,
  BUCKET,
  completeUploadEvent,
  createUploadEvent,
  type Services,
  seed,
  type UploadRequest,
  uploadEvents,
} from './services';

/** The services, and what sections prepare once on first use and share. */
export interface BenchContext extends Services {
  /** The functions packaged and unzipped (`npm run package`), and an empty handler beside them. */
  packaged: () => Packaged;
  /** The app's handlers in this process, warmed up on 1,000 rows, and its own queries. */
  app: () => Promise<WarmApp>;
  /** Direct uploads through the app's handlers in this process and the client's POST to the store. */
  uploads: () => Promise<UploadClient>;
}

/** A section's result: one table, printed and written to .bench-results.md by the runner. */
export interface Table {
  title: string;
  /** A line between the title and the table. */
  note?: string;
  columns: [name: string, align: 'left' | 'right'][];
  rows: string[][];
  /** Lines after the table. */
  after?: string[];
}

export type Section = (ctx: BenchContext) => Promise<Table | Table[]>;

/** The columns after a measured path's own in a table that sets it against the raw operations it must do. */
export const AGAINST_RAW: Table['columns'] = [
  ['raw operations', 'left'],
  ['p50', 'right'],
  ['p99', 'right'],
  ['ratio p50', 'right'],
  ['ratio p99', 'right'],
  ['goal (p50)', 'left'],
];
