import type { Context, S3Event } from 'aws-lambda';
import { log, withRequestId } from '../lib/log';
import { processImage } from '../lib/variants/process';

/**
 * S3 ObjectCreated on images/ (serverless.yml; `npm start` forwards the emulator's events): makes the
 * image's thumb and display copies. A thrown error makes Lambda retry the event, then dead-letter it.
 */
export const handler = (event: S3Event, context: Context) =>
  withRequestId(context.awsRequestId, async () => {
    for (const record of event.Records ?? []) {
      // S3 URL-encodes keys in events (spaces as '+'); the service's keys have neither.
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      log.info('image processing', { key, outcome: await processImage(key) });
    }
  });
