import { describeError, log } from '../log';
import { pruneOutbox, relayPending } from './relay';
import { runRemovals } from './removals';

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
 * function outboxRelay on AWS and by `npm start` locally.
 */
export async function relayRound(batch = 100): Promise<RelayRound> {
  const step = async (name: string, work: () => Promise<number>) => {
    try {
      let total = 0;
      // A full batch means more may be waiting: go on, boundedly.
      for (let i = 0; i < 10; i++) {
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
  return {
    delivered: await step('delivering events', () => relayPending(batch)),
    removed: await step('removing files', () => runRemovals(batch)),
    pruned: await step('pruning delivered events', () => pruneOutbox()),
  };
}
