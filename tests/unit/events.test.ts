/**
 * The event names have one list (lib/outbox/events.ts); the database's triggers write them, so the
 * migrations must name exactly those: an event a trigger writes that the list lacks would never be
 * delivered, and a listed one no trigger writes is dead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS } from '../../lib/outbox/events';

/** Every quoted snake_case name a migration writes into the outbox's event column. */
function writtenByTriggers(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync('drizzle').filter((f) => f.endsWith('.sql'))) {
    const sql = readFileSync(`drizzle/${file}`, 'utf8');
    for (const insert of sql.matchAll(/INSERT INTO outbox[\s\S]*?;/gi)) {
      // A payload's member names (jsonb_build_object('image_ids', …)) are not events.
      const statement = insert[0].replace(/jsonb_build_object\('[a-z_]+'/g, '');
      for (const [, name] of statement.matchAll(/'((?:image|album|share)_[a-z_]+)'/g)) names.add(name ?? '');
    }
  }
  return names;
}

describe('event names', () => {
  it('are the ones the triggers write, no more and no fewer', () => {
    expect([...writtenByTriggers()].sort()).toEqual(Object.keys(EVENTS).sort());
  });
});
