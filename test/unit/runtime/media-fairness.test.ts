import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaJobRecord } from '../../../src/ports/media-job-store.port.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { useTestStore } from '../../support/test-store.ts';

/**
 * Fair queuing of media jobs across bots, measured: a bot that floods the shared pool with 1,000
 * jobs must not hold back another bot's jobs behind its backlog. Bot B's pickup latency (job
 * created to job claimed, as the runtime's `onClaim` hook reports it) is measured once with the
 * pool idle and once while bot A's flood is queued, on one runtime with one pool of 4 slots.
 */

interface Claim {
  readonly botId: string;
  /** When the job was created and when it was claimed, on the runtime's clock. */
  readonly createdAt: number;
  readonly claimedAt: number;
}

const CONCURRENCY = 4;
const FLOOD = 1_000;
const PROBES = 100;
// Bot A's flood arrives over this many conversations at once.
const LANES = 20;

const p99 = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
};
const pickupMs = (claim: Claim): number => claim.claimedAt - claim.createdAt;

describe('media job fairness across bots', () => {
  const t = useTestStore('parley_media_fairness');
  // Every claim of the pool, in the order the worker made them.
  const claims: Claim[] = [];
  let h: Harness;

  beforeAll(async () => {
    h = await startRuntime(t.store, {
      // About a millisecond of work per job, so what is measured is the queue, not the processor.
      processor: async (job) => {
        await sleep(1);
        return { status: 'processed', text: `text of ${job.kind}` };
      },
      worker: { concurrency: CONCURRENCY, pollMs: 50, leaseMs: 30_000 },
      maxPendingMedia: FLOOD,
      hooks: {
        onClaim: (job: MediaJobRecord, pickup: number) =>
          void claims.push({ botId: job.botId, createdAt: job.createdAt.getTime(), claimedAt: job.createdAt.getTime() + pickup }),
      },
    });
    await connectedBot(h, 'bot-a');
    await connectedBot(h, 'bot-b');
  });
  afterAll(async () => {
    await h.runtime.shutdown(1_000);
  });

  /**
   * Sends bot B's probes a few ms apart, one conversation after another, and returns every claim
   * from the first probe's to the last probe's, once all probes are claimed.
   */
  async function probeB(label: string): Promise<Claim[]> {
    const from = claims.length;
    for (let i = 0; i < PROBES; i++) {
      await h.provider.media('bot-b', `b-${label}-${i % 10}`, 'voice');
      await sleep(2);
    }
    const probes = () => claims.slice(from).filter((c) => c.botId === 'bot-b').length;
    await eventually(probes, (n) => n >= PROBES, 30_000);
    const window = claims.slice(from);
    let last = window.length - 1;
    while (last > 0 && window[last]?.botId !== 'bot-b') last--;
    return window.slice(0, last + 1);
  }

  it('picks up bot B\'s jobs about as fast under bot A\'s flood of 1,000 jobs as with the pool idle', async () => {
    const idle = await probeB('idle');
    const idleP99 = p99(idle.map(pickupMs));

    // The flood is queued whole before any of it is claimed: the pool's worker is paused meanwhile.
    h.runtime.mediaJobs.pools.halt();
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let i = 0; i < FLOOD / LANES; i++) await h.provider.media('bot-a', `a-${lane}`, 'voice');
      }),
    );
    expect(await t.store.mediaJobs.countByState('bot-a')).toEqual({ pending: FLOOD });
    h.runtime.mediaJobs.pools.start();
    const flood = await probeB('flood');

    const probes = flood.filter((c) => c.botId === 'bot-b');
    const floodP99 = p99(probes.map(pickupMs));
    const aPending = FLOOD - flood.filter((c) => c.botId === 'bot-a').length;
    // While the flood lasts every slot is busy and the worker claims only when one frees up: the
    // gap between two claims is how long that took. B's job has the lowest tag, so it is taken at
    // the next claim (the one after when its tag ties with A's next, which the older A job wins):
    // beyond what it takes at idle, it waits for a slot to free up, at most one processing time.
    // The slack is the longest such wait measured under this flood, so a machine stalled by other
    // work (a GC pause, a busy core) widens it as it widens the pickups; without fair queuing B's
    // jobs would wait for A's whole backlog instead, hundreds of such gaps.
    const slackMs = Math.max(...flood.slice(1).map((c, i) => c.claimedAt - flood[i]!.claimedAt));

    const numbers = `idle p99 ${idleP99} ms, flood p99 ${floodP99} ms, slack ${slackMs} ms, A pending at B's last claim ${aPending} of ${FLOOD}`;
    expect(aPending, `bot B was served while most of bot A's backlog was still queued (${numbers})`).toBeGreaterThan(FLOOD / 2);
    expect(floodP99, `bot B's pickup p99 under the flood is at most twice the idle p99 plus one slot's time (${numbers})`).toBeLessThanOrEqual(2 * idleP99 + slackMs);
  }, 60_000);
});
