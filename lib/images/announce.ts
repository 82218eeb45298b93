import { relaySubject } from '../outbox/relay';
import { imagesBeforeDelivery, invalidateImage } from './cache';

/** Right after an image is made: its event `image_uploaded`, written with it, goes out now. Never thrown. */
export function announceUpload(imageId: string): Promise<void> {
  return relaySubject(imageId, imagesBeforeDelivery());
}

/**
 * Right after a change of an existing image commits (`version` its updated_at now, undefined once it
 * is deleted): drops its cached entry and raises its fence, so that no request sees the version
 * before it once the write has answered, and delivers its events, which count on that invalidation
 * when Redis took it. Never thrown.
 */
export async function announceChange(imageId: string, version: string | undefined): Promise<void> {
  const landed = invalidateImage(imageId, version);
  await Promise.all([landed, relaySubject(imageId, imagesBeforeDelivery({ imageId, version, landed }))]);
}
