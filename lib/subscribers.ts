import { imagesBeforeDelivery } from './images/cache';
import type { BeforeDelivery } from './outbox/relay';
import { sharesBeforeDelivery } from './shares/cache';

/**
 * What the scheduled relay runs before each group of events goes out: every capability's own part
 * (each drops the cached reads its events make stale). The writes pass only their own.
 */
export const everyBeforeDelivery = (): BeforeDelivery => {
  const parts = [imagesBeforeDelivery(), sharesBeforeDelivery()];
  return (r, events) => {
    const pending = parts.map((before) => before(r, events)).filter((p) => p !== undefined);
    return pending.length === 0 ? undefined : Promise.all(pending);
  };
};
