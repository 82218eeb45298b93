import type { Context } from 'aws-lambda';
import { log, withRequestId } from '../lib/log';
import { SWEEP_BUDGET_MS, sweepExpiredUploads } from '../lib/uploads/pending';

/** Scheduled (serverless.yml; `npm start` runs it too): discards expired pending uploads, objects and rows. */
export const handler = (_event: unknown, context: Context) =>
  withRequestId(context.awsRequestId, async () => {
    // Until none is left, within the function's time: what a run leaves, the next hour's takes.
    const report = await sweepExpiredUploads({ budgetMs: Math.min(SWEEP_BUDGET_MS, context.getRemainingTimeInMillis() - 10_000) });
    log.info('expired uploads swept', { ...report });
    return report;
  });
