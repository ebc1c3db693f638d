import type { Logger } from '../../logging/logger.ts';

/** The running parts of one work queue in this process. */
export interface QueueParts {
  readonly host: { recoverEffects(): Promise<number>; halt(): void };
  readonly worker: { start(): void; halt(): void; stop(graceMs?: number): Promise<void> };
  /** Returns the leases that lapsed to their machine; resolves with how many. */
  readonly sweep: () => Promise<number>;
  readonly leaseMs: number;
  readonly log: Logger;
}

/**
 * Start, halt and stop of one work queue: at start the effects a crash left unacknowledged run and
 * a crashed process's lapsed leases are swept before any claim, then the worker claims and the
 * sweeper runs every half lease (at least every second).
 */
export function queueLifecycle(parts: QueueParts) {
  let sweeper: NodeJS.Timeout | undefined;
  return {
    /** Runs unacknowledged effects and sweeps lapsed leases; nothing is claimed yet. */
    async recover(): Promise<{ recovered: number; swept: number }> {
      const recovered = await parts.host.recoverEffects();
      const swept = await parts.sweep();
      return { recovered, swept };
    },
    start(): void {
      parts.worker.start();
      sweeper = setInterval(() => void parts.sweep().catch((err: unknown) => parts.log.error({ err }, 'lease sweep failed')), Math.max(1000, parts.leaseMs / 2));
      sweeper.unref();
    },
    /** Stops at once without writing or running anything more (the process is going away). */
    halt(): void {
      clearInterval(sweeper);
      parts.worker.halt();
      parts.host.halt();
    },
    /** Stops claiming and waits for the work under way, aborting it after `graceMs`. */
    async stop(graceMs?: number): Promise<void> {
      clearInterval(sweeper);
      await parts.worker.stop(graceMs);
    },
  };
}
