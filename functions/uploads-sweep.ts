import type { Context } from 'aws-lambda';
import { log, withRequestId } from '../lib/log';
import { sweepExpiredUploads } from '../lib/uploads/pending';

/** Scheduled (serverless.yml; `npm start` runs it too): discards expired pending uploads, objects and rows. */
export const handler = (_event: unknown, context: Context) =>
  withRequestId(context.awsRequestId, async () => {
    const swept = await sweepExpiredUploads();
    log.info('expired uploads swept', { swept });
    return { swept };
  });
