import { backoffDelay } from '../../domain/backoff.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import type { MediaJobRecord } from '../../ports/media-job-store.port.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import type { WorkerJob } from '../work-queue/worker.ts';
import type { MediaJobHost } from './media-job-host.ts';

/** Wait before a failed job may be claimed again: 1 s, 2 s, 4 s … capped at a minute. */
export const MEDIA_RETRY: BackoffPolicy = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };

/**
 * Media jobs as a worker carries them out: the processor turns the media into text and the job's
 * actor hears `job.completed`, or `job.failed` (transient, retried with backoff while attempts
 * remain) when the processor threw.
 */
export function mediaJobWork(host: MediaJobHost, processor: MediaProcessor, clock: () => number, kinds?: readonly string[]): WorkerJob<MediaJobRecord> {
  return {
    claim: (owner, leaseMs) => host.claim(owner, leaseMs, kinds),
    heartbeat: (job, leaseUntil) => host.dispatch(job.id, { type: 'job.heartbeat', attempt: job.attempt, leaseUntil }),
    async perform(job, signal) {
      let outcome;
      try {
        outcome = await processor(job, signal);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const retryAt = clock() + backoffDelay(job.attempt, MEDIA_RETRY, Math.random());
        await host.dispatch(job.id, { type: 'job.failed', attempt: job.attempt, error, transient: true, retryAt });
        return;
      }
      await host.dispatch(job.id, { type: 'job.completed', attempt: job.attempt, outcome });
    },
  };
}
