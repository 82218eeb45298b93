/**
 * Races, with real concurrency in Postgres: these handlers get a pool of 25 connections, so the
 * requests below run in parallel transactions as they would in parallel Lambda containers.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiWith } from '../helpers/api';
import { assertNoOrphans, resetState } from '../helpers/state';

type Api = Awaited<ReturnType<typeof apiWith>>;
let api: Api;

beforeAll(async () => {
  api = await apiWith({ DB_MAX_CONNECTIONS: '25', LOG_LEVEL: 'silent' });
});
beforeEach(resetState);

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe('concurrency', () => {
  it('20 simultaneous uploads with one title: one 201, nineteen 409, one row and one object', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => api.upload({ title: 'the only one' })));
    const statuses = replies.map((r) => r.status);
    expect(count(statuses, 201)).toBe(1);
    expect(count(statuses, 409)).toBe(19);
    const { rows, keys } = await assertNoOrphans();
    expect(rows).toHaveLength(1);
    expect(keys).toHaveLength(1);
  });

  it('simultaneous PATCH and DELETE of one image: the delete wins, nothing is left, nothing stale', async () => {
    for (let round = 0; round < 10; round++) {
      const image = (await api.upload({ title: `race ${round}` })).json as { id: string };
      await api.get(image.id); // cached
      const [patched, deleted] = await Promise.all([api.patch(image.id, { description: 'late' }), api.remove(image.id)]);
      expect(deleted.status).toBe(204);
      expect([200, 404]).toContain(patched.status);
      expect((await api.get(image.id)).status).toBe(404);
    }
    const { rows, keys } = await assertNoOrphans();
    expect(rows).toEqual([]);
    expect(keys).toEqual([]);
  });

  it('two images PATCHed to the same title at once: one 200, one 409', async () => {
    for (let round = 0; round < 5; round++) {
      const a = (await api.upload({ title: `a ${round}` })).json as { id: string };
      const b = (await api.upload({ title: `b ${round}` })).json as { id: string };
      const replies = await Promise.all([api.patch(a.id, { title: `same ${round}` }), api.patch(b.id, { title: `same ${round}` })]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
      const titles = [((await api.get(a.id)).json as { title: string }).title, ((await api.get(b.id)).json as { title: string }).title];
      expect(titles.filter((t) => t === `same ${round}`)).toHaveLength(1);
    }
    await assertNoOrphans();
  });

  it('a burst of mixed writes leaves every row with its object and every object with its row', async () => {
    const uploads = await Promise.all(Array.from({ length: 15 }, (_, i) => api.upload({ title: `burst ${i % 10}` })));
    const ids = uploads.filter((r) => r.status === 201).map((r) => (r.json as { id: string }).id);
    expect(ids).toHaveLength(10);
    await Promise.all(ids.flatMap((id, i) => (i % 2 ? [api.remove(id)] : [api.patch(id, { description: `d${i}` }), api.get(id)])));
    const { rows } = await assertNoOrphans();
    expect(rows).toHaveLength(5);
  });
});
