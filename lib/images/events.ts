/** The channel every change is published on (best effort: whoever listens at that moment). */
export const IMAGE_CHANNEL = 'image_channel';
/** The stream every change is appended to (at least once, in commit order per image, with its outbox id). */
export const IMAGE_STREAM = 'image_events';

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
