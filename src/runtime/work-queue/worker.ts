import PQueue from 'p-queue';
import { isParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';

/** One kind of work: how to claim an item, keep its lease, and carry it out. */
export interface WorkerJob<TItem extends { readonly id: string }> {
  /** Claims the fairest due item for `owner`, or `null` when none is due. */
  claim(owner: string, leaseMs: number): Promise<TItem | null>;
  /** Extends the claim; rejects with NOT_FOUND when the item is gone (its bot was deleted). */
  heartbeat(item: TItem, leaseUntil: number): Promise<unknown>;
  /** Does the work and reports its outcome to the item's actor. Aborted when the process goes away. */
  perform(item: TItem, signal: AbortSignal): Promise<void>;
}

export interface WorkerOptions<TItem extends { readonly id: string }> {
  readonly job: WorkerJob<TItem>;
  /** Identifies this worker in claims; unique across instances. */
  readonly owner: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** Fallback poll for items created by other instances; in-process arrivals call `wake`. */
  readonly pollMs: number;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Called when an item was claimed, for metrics. */
  readonly onClaim?: (item: TItem) => void;
}

/**
 * Claims work-queue items and carries them out on a bounded pool, a heartbeat keeping each claim's
 * lease alive. Pickup is event-driven (`wake` on insert) with a poll fallback for other instances.
 */
export function createWorker<TItem extends { readonly id: string }>(options: WorkerOptions<TItem>) {
  const pool = new PQueue({ concurrency: options.concurrency });
  const log = options.logger.child({ owner: options.owner });
  let running = false;
  let halted = false;
  let pumping = false;
  let again = false;
  let poller: NodeJS.Timeout | undefined;
  const inFlight = new Set<AbortController>();
  // Claimed and not yet finished. Counted here, not read from the p-queue: a run that just ended
  // is still pending there when it asks for more work, and its slot would look taken until the
  // next poll.
  let active = 0;

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
        while (running && active < options.concurrency) {
          const item = await options.job.claim(options.owner, options.leaseMs);
          if (item === null) break;
          active += 1;
          options.onClaim?.(item);
          void pool.add(() => run(item));
        }
      } while (again && running);
    } catch (err) {
      log.error({ err }, 'claiming work failed');
    } finally {
      pumping = false;
    }
  }

  async function run(item: TItem): Promise<void> {
    const controller = new AbortController();
    inFlight.add(controller);
    // A claim that was under way when the process halted: the work must not start.
    if (halted) controller.abort();
    const beat = setInterval(() => {
      // A halted process stops renewing: its claims lapse as a dead process's would.
      if (halted) return;
      void options.job.heartbeat(item, options.clock() + options.leaseMs).catch((err: unknown) => {
        // Deleted with its bot: nobody waits for the outcome any more.
        if (isParleyError(err, 'NOT_FOUND')) controller.abort();
        else log.warn({ err, itemId: item.id }, 'heartbeat failed');
      });
    }, Math.max(50, Math.floor(options.leaseMs / 3)));
    // Leases expire on their own; a heartbeat must not keep a halted process alive.
    beat.unref();
    try {
      await options.job.perform(item, controller.signal);
    } catch (err) {
      if (isParleyError(err, 'NOT_FOUND')) log.info({ itemId: item.id }, 'work item deleted with its bot while it ran; outcome discarded');
      else log.error({ err, itemId: item.id }, 'recording the outcome of a work item failed');
    } finally {
      clearInterval(beat);
      inFlight.delete(controller);
      active -= 1;
      void pump();
    }
  }

  return {
    /** Looks for work now (an item was just created in this process, or a line was freed). */
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
    /** Stops claiming and waits for running work, aborting it after `graceMs`. */
    async stop(graceMs = 5000): Promise<void> {
      running = false;
      clearInterval(poller);
      const abort = setTimeout(() => inFlight.forEach((c) => c.abort()), graceMs);
      await pool.onIdle();
      clearTimeout(abort);
    },
    /** Stops claiming and lets the work under way finish, however long it takes (its pool was removed). */
    async retire(): Promise<void> {
      running = false;
      clearInterval(poller);
      await pool.onIdle();
    },
    stats: () => ({ running: pool.pending, queued: pool.size }),
  };
}

export type Worker = ReturnType<typeof createWorker>;
