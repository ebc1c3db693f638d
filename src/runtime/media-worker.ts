import PQueue from 'p-queue';
import { isParleyError } from '../domain/errors.ts';
import type { MediaOutcome } from '../domain/media-content.ts';
import type { Logger } from '../logging/logger.ts';
import type { MediaJobRecord } from '../ports/media-job-store.port.ts';
import type { MediaJobHost } from './media-job-host.ts';

/** Turns one job's media into text. Throwing means a transient failure (retried with backoff). */
export type MediaProcessor = (job: MediaJobRecord, signal: AbortSignal) => Promise<MediaOutcome>;

export interface MediaWorkerOptions {
  readonly host: MediaJobHost;
  readonly processor: MediaProcessor;
  /** Identifies this worker in claims; must be unique across instances. */
  readonly owner: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** Fallback poll for jobs created by other instances; in-process arrivals call `wake`. */
  readonly pollMs: number;
  readonly kinds?: readonly string[];
  readonly retryDelayMs?: (attempt: number) => number;
  readonly clock: () => number;
  readonly logger: Logger;
  /** Called with pickup latency (claim time minus creation time) for metrics. */
  readonly onClaim?: (job: MediaJobRecord, pickupMs: number) => void;
}

/** Claims media jobs and runs them on a bounded pool, with a heartbeat keeping each lease alive. */
export function createMediaWorker(options: MediaWorkerOptions) {
  const pool = new PQueue({ concurrency: options.concurrency });
  const log = options.logger.child({ scope: 'media-worker', owner: options.owner });
  let running = false;
  let halted = false;
  let pumping = false;
  let again = false;
  let poller: NodeJS.Timeout | undefined;
  const inFlight = new Set<AbortController>();

  async function pump(): Promise<void> {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        while (running && pool.size + pool.pending < options.concurrency) {
          const job = await options.host.claim(options.owner, options.leaseMs, options.kinds);
          if (job === null) break;
          options.onClaim?.(job, options.clock() - job.createdAt.getTime());
          void pool.add(() => run(job));
        }
      } while (again && running);
    } catch (err) {
      log.error({ err }, 'claiming media jobs failed');
    } finally {
      pumping = false;
    }
  }

  async function run(job: MediaJobRecord): Promise<void> {
    const controller = new AbortController();
    inFlight.add(controller);
    // A claim that was under way when the process halted: the job must not start.
    if (halted) controller.abort();
    const beat = setInterval(() => {
      void options.host
        .dispatch(job.id, { type: 'job.heartbeat', attempt: job.attempt, leaseUntil: options.clock() + options.leaseMs })
        .catch((err: unknown) => {
          // Its bot was deleted: nobody is waiting for the result any more.
          if (isParleyError(err, 'NOT_FOUND')) controller.abort();
          else log.warn({ err, jobId: job.id }, 'heartbeat failed');
        });
    }, Math.max(50, Math.floor(options.leaseMs / 3)));
    // Leases expire on their own; a heartbeat must not keep a halted process alive.
    beat.unref();
    try {
      const outcome = await options.processor(job, controller.signal);
      await options.host.dispatch(job.id, { type: 'job.completed', attempt: job.attempt, outcome });
    } catch (err) {
      const delay = options.retryDelayMs?.(job.attempt) ?? 1000 * 2 ** (job.attempt - 1);
      const error = err instanceof Error ? err.message : String(err);
      await options.host
        .dispatch(job.id, { type: 'job.failed', attempt: job.attempt, error, transient: true, retryAt: options.clock() + delay })
        .catch((e: unknown) => {
          if (isParleyError(e, 'NOT_FOUND')) log.info({ jobId: job.id, botId: job.botId }, 'media job deleted with its bot while it ran; result discarded');
          else log.error({ err: e, jobId: job.id }, 'recording a failure failed');
        });
    } finally {
      clearInterval(beat);
      inFlight.delete(controller);
      void pump();
    }
  }

  return {
    /** Looks for work now (a job was just created in this process). */
    wake(): void {
      void pump();
    },
    start(): void {
      running = true;
      halted = false;
      poller = setInterval(() => void pump(), options.pollMs);
      poller.unref();
      void pump();
    },
    /** Stops claiming at once without waiting for anything (the process is going away). */
    halt(): void {
      running = false;
      halted = true;
      clearInterval(poller);
      inFlight.forEach((c) => c.abort());
    },
    /** Stops claiming and waits for running jobs, aborting them after `graceMs`. */
    async stop(graceMs = 5000): Promise<void> {
      running = false;
      clearInterval(poller);
      const abort = setTimeout(() => inFlight.forEach((c) => c.abort()), graceMs);
      await pool.onIdle();
      clearTimeout(abort);
    },
    stats: () => ({ running: pool.pending, queued: pool.size }),
  };
}

export type MediaWorker = ReturnType<typeof createMediaWorker>;
