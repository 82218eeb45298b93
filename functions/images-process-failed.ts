import type { Context, S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { imageIdOfKey } from '../lib/keys';
import { describeError, log, withRequestId } from '../lib/log';
import { recordFailure } from '../lib/variants/record';

/**
 * What Lambda sends to an asynchronous invocation's failure destination (the queue
 * ProcessingFailures): the event that failed and what the last attempt answered.
 */
interface FailedInvocation {
  requestPayload?: Partial<S3Event>;
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

/**
 * The processing events that failed every attempt (a timeout, memory exhausted, S3 or the database
 * down three times over; serverless.yml routes them here through the queue ProcessingFailures):
 * each image still pending turns `failed`, with its image_processing_failed event, so that no image
 * waits as pending for ever. A message whose recording fails (the database down) is reported back,
 * and the queue offers it again later; the rest are done.
 */
export const handler = (event: SQSEvent, context: Context) =>
  withRequestId(context.awsRequestId, async (): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const message of event.Records ?? []) {
      let failed: FailedInvocation;
      try {
        failed = JSON.parse(message.body) as FailedInvocation;
      } catch {
        log.warn('not a failed invocation; dropped', { messageId: message.messageId });
        continue;
      }
      try {
        for (const record of failed.requestPayload?.Records ?? []) {
          const key = decodeURIComponent(String(record.s3?.object?.key ?? '').replace(/\+/g, ' '));
          const id = imageIdOfKey(key);
          const outcome = id ? await recordFailure(id) : 'skipped';
          log.warn('image processing failed every attempt', {
            key,
            outcome,
            error: failed.responsePayload?.errorType,
            reason: failed.responsePayload?.errorMessage?.slice(0, 300),
          });
        }
      } catch (err) {
        log.error('failed processing not recorded; the queue offers it again', { messageId: message.messageId, ...describeError(err) });
        batchItemFailures.push({ itemIdentifier: message.messageId });
      }
    }
    return { batchItemFailures };
  });
