import { bounded } from '../redis';

/** The channel every change is published on. */
export const IMAGE_CHANNEL = 'image_channel';

export type ImageEventName = 'image_uploaded' | 'image_updated' | 'image_deleted' | 'image_processed' | 'image_processing_failed';

/** An event as published: exactly these keys, in this order. */
export interface ImageEvent {
  event: ImageEventName;
  id: string;
  title: string;
}

/** The event's wire form, byte for byte: `{"event":"image_uploaded","id":"<uuid>","title":"<title>"}`. */
export function encodeEvent(name: ImageEventName, image: { id: string; title: string }): string {
  const event: ImageEvent = { event: name, id: image.id, title: image.title };
  return JSON.stringify(event);
}

/** Publishes a change on IMAGE_CHANNEL after its commit; a Redis failure is logged, never thrown. */
export async function publishEvent(name: ImageEventName, image: { id: string; title: string }): Promise<void> {
  await bounded(`publish ${name}`, (r) => r.publish(IMAGE_CHANNEL, encodeEvent(name, image)));
}
