/**
 * The event names the database's triggers write (drizzle/*.sql) are the ones lib/outbox/events.ts
 * lists, no more and no fewer: a name the relay does not know would hold back every later event of
 * its subject, and a listed name no trigger writes is a promise nothing keeps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS } from '../../lib/outbox/events';

const sql = readdirSync('drizzle')
  .filter((name) => name.endsWith('.sql'))
  .map((name) => readFileSync(join('drizzle', name), 'utf8'))
  .join('\n');

describe('event names', () => {
  it('the triggers write exactly the events the relay and the listener know', () => {
    // Quoted names of a subject and what happened to it; a payload's member names are not events.
    const written = new Set(
      [...sql.matchAll(/(jsonb_build_object\(\s*)?'((?:image|album|share)_[a-z_]+)'/g)].filter((m) => m[1] === undefined).map((m) => m[2]),
    );
    expect([...written].sort()).toEqual(Object.keys(EVENTS).sort());
  });

  it('only image events go to the channel', () => {
    for (const [name, { channel }] of Object.entries(EVENTS))
      expect({ name, channel }).toEqual({ name, channel: name.startsWith('image_') });
  });
});
