import { describeError, log } from '../log';
import { type BeforeDelivery, pruneOutbox, relayPending } from './relay';
import { REMOVAL_ROUND_MS, runRemovals } from './removals';

/** What one round of the relay did. */
export interface RelayRound {
  delivered: number;
  removed: number;
  pruned: number;
}

/**
 * One round of the relay: delivers the outbox's undelivered events, runs the due file removals,
 * prunes delivered events past their retention — each step on its own, so a failing one (Redis
 * down, S3 down) holds up none of the others. Run by the listener continuously, by the scheduled
 * function outboxRelay on AWS and by `npm start` locally, each with every capability's `before`
 * (lib/subscribers.ts).
 */
export async function relayRound(before: BeforeDelivery, batch = 100): Promise<RelayRound> {
  /** Runs `work` until it takes less than a full batch (more may be waiting), at most `rounds` times. */
  const step = async (name: string, work: () => Promise<number>, rounds = 10) => {
    try {
      let total = 0;
      for (let i = 0; i < rounds; i++) {
        const n = await work();
        total += n;
        if (n < batch) break;
      }
      return total;
    } catch (err) {
      log.warn(`relay: ${name} failed; next round`, describeError(err));
      return 0;
    }
  };
  // The round's time for S3, shared by its batches: a batch out of time removes nothing and ends the step.
  const s3Deadline = Date.now() + REMOVAL_ROUND_MS;
  return {
    delivered: await step('delivering events', () => relayPending(batch, { before })),
    removed: await step('removing files', () => runRemovals(batch, Math.max(0, s3Deadline - Date.now()))),
    // Not in batches: one statement prunes all that is due.
    pruned: await step('pruning delivered events', () => pruneOutbox(), 1),
  };
}
