import { isParleyError } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Store } from '../ports/store.port.ts';
import type { MediaJobHost } from './media-job-host.ts';

/**
 * Leases are data: a claimed job whose `leaseUntil` passed gets `job.lease-expired` for that
 * attempt, and the machine decides (back to pending, or dead-letter when attempts ran out).
 * Run once at start-up (jobs of a crashed process) and then on a timer.
 */
export async function sweepExpiredLeases(store: Store, host: MediaJobHost, now: number, logger: Logger): Promise<number> {
  const expired = await store.mediaJobs.list({ states: ['processing', 'holding'], leaseBefore: new Date(now) });
  let swept = 0;
  for (const job of expired) {
    if (job.owner === null) continue;
    try {
      await host.dispatch(job.id, { type: 'job.lease-expired', attempt: job.attempt });
    } catch (err) {
      // Deleted with its bot since it was listed: there is no lease left to sweep.
      if (isParleyError(err, 'NOT_FOUND')) continue;
      throw err;
    }
    swept += 1;
  }
  if (swept > 0) logger.info({ swept }, 'expired media job leases returned to the queue');
  return swept;
}
