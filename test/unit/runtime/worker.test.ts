import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import { createWorker } from '../../../src/runtime/work-queue/worker.ts';
import { eventually } from '../../support/runtime-harness.ts';

/** A backlog in memory: each claim takes the next item; `perform` records the item and yields once. */
function backlog(n: number) {
  const waiting = Array.from({ length: n }, (_, i) => ({ id: `item-${i + 1}` }));
  const done: string[] = [];
  let running = 0;
  let mostAtOnce = 0;
  return {
    done,
    mostAtOnce: () => mostAtOnce,
    job: {
      claim: async () => waiting.shift() ?? null,
      heartbeat: async () => undefined,
      async perform(item: { id: string }) {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await new Promise((r) => setTimeout(r, 2));
        running -= 1;
        done.push(item.id);
      },
    },
  };
}

describe('work-queue worker', () => {
  it.each([1, 3])('drains a backlog at concurrency %i by claiming the next item as each one ends, without waiting for a poll', async (concurrency) => {
    const work = backlog(12);
    // A poll that never comes in this test: only finished runs can pull the rest of the backlog.
    const worker = createWorker({ job: work.job, owner: 'w', concurrency, leaseMs: 60_000, pollMs: 3_600_000, logger: createLogger('silent'), clock: Date.now });
    worker.start();
    try {
      await eventually(() => work.done.length, (n) => n === 12, 3_000);
      expect(work.mostAtOnce()).toBeLessThanOrEqual(concurrency);
      expect([...work.done].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `item-${i + 1}`).sort());
    } finally {
      await worker.stop();
    }
  });
});
