import type { Context } from 'aws-lambda';
import { log, withRequestId } from '../lib/log';
import { relayRound } from '../lib/outbox/run';
import { everyBeforeDelivery } from '../lib/subscribers';

/**
 * Scheduled every minute (serverless.yml; `npm start` every few seconds): delivers events the
 * functions could not (Redis was down), removes files the deletions left (S3 was down), prunes.
 */
export const handler = (_event: unknown, context: Context) =>
  withRequestId(context.awsRequestId, async () => {
    const round = await relayRound(everyBeforeDelivery());
    if (round.delivered + round.removed + round.pruned > 0) log.info('relay round', { ...round });
    return round;
  });
