import { inArray, lte, sql } from 'drizzle-orm';
import { outboxConfig } from '../config';
import { db, type Tx, withDb } from '../db';
import { describeError, log } from '../log';
import { fileRemovals } from '../schema';
import { deleteObject } from '../storage';

/**
 * How long an object written inside a transaction is left alone before a removal job may delete it:
 * longer than any function runs, so that a transaction still in flight never loses its object.
 */
export const IN_FLIGHT_SECONDS = 15 * 60;

/** The rows of removal jobs for `keys`, due now or after `graceSeconds` (to insert in a transaction). */
export const removalJobs = (keys: string[], graceSeconds = 0) =>
  keys.map((key) => ({ key, notBefore: sql`now() + make_interval(secs => ${graceSeconds})` }));

/** A job failed: tried again after a back-off (2^attempts seconds, at most an hour). */
const backoff = sql`now() + make_interval(secs => least(power(2, ${fileRemovals.attempts} + 1), 3600))`;

/**
 * Tries removal jobs now, within FILE_REMOVAL_BUDGET_MS, and deletes the jobs S3 confirmed: right
 * after a commit let files go, or after a transaction that stored them failed. The jobs are locked
 * first, and whoever holds one is waited for, within the budget: a transaction still deciding about
 * it (one that deletes its guard as it commits), after which a job it deleted is gone and its files
 * are left alone; or a relay that took it between the commit and now, after which the files are
 * gone (so a DELETE answers once its files are removed, whoever removed them). Never throws and
 * never waits longer than the budget: what S3 did not confirm, or a holder did not let go of in
 * time, stays for runRemovals, which retries.
 */
export async function removeNow(ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  const budgetMs = outboxConfig().FILE_REMOVAL_BUDGET_MS;
  const signal = AbortSignal.timeout(budgetMs);
  try {
    await withDb(() =>
      db().transaction(async (tx) => {
        await tx.execute(sql`select set_config('lock_timeout', ${`${budgetMs}ms`}, true)`);
        const jobs = await tx
          .select({ id: fileRemovals.id, key: fileRemovals.key })
          .from(fileRemovals)
          .where(inArray(fileRemovals.id, ids))
          .for('update');
        const done: number[] = [];
        try {
          for (const job of jobs) {
            await deleteObject(job.key, signal);
            done.push(job.id);
          }
        } finally {
          if (done.length > 0) await tx.delete(fileRemovals).where(inArray(fileRemovals.id, done));
        }
      }),
    );
  } catch (err) {
    log.warn('files left for the removal jobs', { ids, ...describeError(err) });
  }
}

/**
 * Runs `work`, a transaction that stores objects at `keys` and commits their rows, so that the
 * objects never outlive a transaction that does not commit: a removal job for them is committed
 * first, due only after IN_FLIGHT_SECONDS, and `work` calls `release(tx)` in its transaction, BEFORE
 * it stores the objects, to delete that job as it commits. If `work` fails, the objects are removed
 * at once — or by the job, once due, should that fail too. A file without its row only until the
 * job runs; never a row without its file.
 *
 * `release` deletes every job for these keys, not only this call's: an earlier attempt at the same
 * keys (a completion retried after the copy failed and S3 refused the clean-up too, processing run
 * again) may have left one, due later, that would otherwise remove the files this transaction
 * commits. It takes their row locks, so a removal of these keys in progress (removeNow, runRemovals)
 * finishes before the transaction goes on to store the objects anew.
 */
export async function guardObjects<T>(keys: string[], work: (release: (tx: Tx) => Promise<unknown>) => Promise<T>): Promise<T> {
  const guards = await withDb(() =>
    db().insert(fileRemovals).values(removalJobs(keys, IN_FLIGHT_SECONDS)).returning({ id: fileRemovals.id }),
  );
  const ids = guards.map((g) => g.id);
  try {
    return await work((tx) => tx.delete(fileRemovals).where(inArray(fileRemovals.key, keys)));
  } catch (err) {
    await removeNow(ids);
    throw err;
  }
}

/** How long one round of runRemovals may spend on S3: well inside the outboxRelay function's timeout. */
export const REMOVAL_ROUND_MS = 20_000;

/**
 * The removal relay: deletes the objects of due jobs, oldest first, at most `batch`, locked FOR UPDATE
 * SKIP LOCKED so relays running at once share the work; a job S3 confirms is deleted, one it refuses
 * is tried again after a back-off. The round stops after `budgetMs` of S3 calls (a hanging S3 holds
 * neither the transaction nor the relay for long): jobs not reached are left as they were. Returns
 * how many objects were removed; throws when the database fails.
 */
export async function runRemovals(batch = 100, budgetMs = REMOVAL_ROUND_MS): Promise<number> {
  const signal = AbortSignal.timeout(budgetMs);
  return withDb(() =>
    db().transaction(async (tx) => {
      const due = await tx
        .select({ id: fileRemovals.id, key: fileRemovals.key })
        .from(fileRemovals)
        .where(lte(fileRemovals.notBefore, sql`now()`))
        .orderBy(fileRemovals.id)
        .limit(batch)
        .for('update', { skipLocked: true });
      const done: number[] = [];
      for (const job of due) {
        if (signal.aborted) break;
        try {
          await deleteObject(job.key, signal);
          done.push(job.id);
        } catch (err) {
          if (signal.aborted) break; // out of time, not refused: as it was, for the next round
          log.warn('file removal failed; retried later', { key: job.key, ...describeError(err) });
          await tx
            .update(fileRemovals)
            .set({
              attempts: sql`${fileRemovals.attempts} + 1`,
              lastError: String((err as Error).cause ?? err).slice(0, 500),
              notBefore: backoff,
            })
            .where(inArray(fileRemovals.id, [job.id]));
        }
      }
      if (done.length > 0) await tx.delete(fileRemovals).where(inArray(fileRemovals.id, done));
      return done.length;
    }),
  );
}
