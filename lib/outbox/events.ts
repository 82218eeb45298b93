// Every event the service writes to the outbox, the one list: the database's triggers write these
// names (drizzle/*.sql; tests/unit/events.test.ts holds them together), the relay delivers them and
// the listener prints them.

/** The stream every event is appended to (at least once, in commit order per subject, with its outbox id). */
export const EVENT_STREAM = 'image_events';
/** The channel the image events are also published on (best effort: whoever listens at that moment). */
export const IMAGE_CHANNEL = 'image_channel';

/** The events, each with whether it also goes to IMAGE_CHANNEL (the seed's channel keeps its image events only). */
export const EVENTS = {
  image_uploaded: { channel: true },
  image_updated: { channel: true },
  image_deleted: { channel: true },
  image_processed: { channel: true },
  image_processing_failed: { channel: true },
  album_created: { channel: false },
  album_updated: { channel: false },
  album_deleted: { channel: false },
  album_images_added: { channel: false },
  album_images_removed: { channel: false },
  share_created: { channel: false },
  share_revoked: { channel: false },
} as const;
export type EventName = keyof typeof EVENTS;

/** Whether a name is one of EVENTS. */
export const isEventName = (name: string): name is EventName => Object.hasOwn(EVENTS, name);

/** An event as the outbox holds it: its name, what it is about, that subject's title, and its other members. */
export interface OutboxEvent {
  /** The outbox row's id: consumers drop an event they have seen by it. */
  id: number;
  event: EventName;
  subjectId: string;
  title: string;
  /** Members beyond event, id and title; those whose name starts with `_` are for the relay only, never sent. */
  payload: Record<string, unknown> | null;
}

/**
 * The event's wire form: `{"event","id","title"}` in that order (an image event is exactly that,
 * byte for byte: `{"event":"image_uploaded","id":"<uuid>","title":"<title>"}`), then its public members.
 */
export function encodeEvent(e: Pick<OutboxEvent, 'event' | 'subjectId' | 'title' | 'payload'>): string {
  const members = Object.entries(e.payload ?? {}).filter(([name]) => !name.startsWith('_'));
  return JSON.stringify({ event: e.event, id: e.subjectId, title: e.title, ...Object.fromEntries(members) });
}
