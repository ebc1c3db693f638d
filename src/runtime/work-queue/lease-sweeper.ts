import { isParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { WorkItem, WorkQueueStore } from '../../ports/work-queue.port.ts';

/**
 * Leases are data: a claimed item whose `leaseUntil` passed is told so by its machine's expiry
 * event for that attempt, and the machine decides (back to pending, or dead-letter when attempts
 * ran out). Run once at start-up (items of a crashed process) and then on a timer.
 */
export async function sweepExpiredLeases<TData, TState extends string>(
  store: WorkQueueStore<TData, TState>,
  claimedStates: readonly TState[],
  expire: (item: WorkItem<TData, TState>, now: number) => Promise<unknown>,
  now: number,
  logger: Logger,
): Promise<number> {
  const expired = await store.list({ states: claimedStates, leaseBefore: new Date(now) });
  let swept = 0;
  for (const item of expired) {
    if (item.owner === null) continue;
    try {
      await expire(item, now);
    } catch (err) {
      // Deleted with its bot since it was listed: there is no lease left to sweep.
      if (isParleyError(err, 'NOT_FOUND')) continue;
      throw err;
    }
    swept += 1;
  }
  if (swept > 0) logger.info({ swept }, 'expired leases returned to their queue');
  return swept;
}
