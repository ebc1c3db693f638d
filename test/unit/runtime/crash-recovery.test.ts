import { describe, expect, it } from 'vitest';
import { crashingStore } from '../../support/crashing-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';

const CID = '4915550200';
const PID = 'WAMID-CRASH';
const FINAL = '[Voice message] the transcript';

interface Outcome {
  readonly died: boolean;
  readonly diedBefore: string | undefined;
}

/**
 * Runs one media message through a process that dies right before its k-th store write, then
 * restarts on the same database (an hour later, so the dead process's leases have expired) and
 * checks what recovery delivers.
 */
async function crashAt(k: number): Promise<Outcome> {
  const t = await openTestStore('parley_crash');
  const crashing = crashingStore(t.store);
  const processor = async () => ({ status: 'processed' as const, text: 'the transcript' });
  const first: Harness = await startRuntime(crashing.store, { processor, worker: { pollMs: 600_000, leaseMs: 1000, concurrency: 1 } });
  const second: Harness[] = [];
  try {
    const bot = await connectedBot(first);
    crashing.arm(k);
    const acked = await first.provider.media(bot, CID, 'voice', PID).then(() => true, () => false);
    await eventually(async () => crashing.isDead() || (await t.store.mediaJobs.list({ botId: bot }))[0]?.state === 'delivered', Boolean);
    first.runtime.halt();
    const died = crashing.isDead();

    // I8: an acknowledged message is in history from the moment it was acknowledged.
    const before = await t.store.history.list(bot, CID);
    if (acked) expect(before.map((r) => r.providerMessageId)).toEqual([PID]);

    const hourLater = () => Date.now() + 3_600_000;
    const h = await startRuntime(t.store, { processor, clock: hourLater });
    second.push(h);
    await eventually(() => h.runtime.bots.state(bot), (s) => s === 'connected');
    // An unacknowledged message is delivered again by the provider.
    if (!acked) await h.provider.media(bot, CID, 'voice', PID);
    if (process.env['CRASH_DEBUG']) console.log('DBG', k, acked, crashing.log, JSON.stringify(await t.store.history.list(bot, CID)), JSON.stringify((await t.store.mediaJobs.list({})).map((j) => [j.state, j.attempt, j.owner])));

    const jobs = await eventually(() => t.store.mediaJobs.list({ botId: bot }), (j) => j.length === 1 && j[0]?.state === 'delivered');
    const rows = await t.store.history.list(bot, CID);
    // I4 and I9: the result reached its placeholder exactly once, in place.
    expect(rows.map((r) => [r.seq, r.status, r.content])).toEqual([[1, 'final', FINAL]]);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => [m.id, m.content, m.mediaJobId])).toEqual([[1, FINAL, null]]);
    expect(window.totalChars).toBe(FINAL.length);
    // I3: listeners heard the finalized message once across both lives of the process.
    await new Promise((r) => setTimeout(r, 30));
    const heard = [...first.delivered, ...h.delivered].filter((d) => d.botId === bot);
    expect(heard.map((d) => d.content)).toEqual([FINAL]);
    expect(jobs[0]!.attempt).toBeGreaterThanOrEqual(1);
    return { died, diedBefore: crashing.log.find((l) => l.startsWith('died')) };
  } finally {
    first.runtime.halt();
    for (const h of second) await h.runtime.shutdown();
    await t.dispose();
  }
}

describe('crash recovery of the media-job path', () => {
  it('delivers a media result exactly once wherever the process dies (I4, I5, I8)', async () => {
    const points: string[] = [];
    for (let k = Number(process.env['CRASH_FROM'] ?? 1); k <= Number(process.env['CRASH_TO'] ?? 40); k++) {
      const outcome = await crashAt(k);
      if (!outcome.died) break;
      points.push(outcome.diedBefore ?? `write ${k}`);
    }
    // Every write of the path was a crash point, and the path has the writes it should.
    expect(points.length).toBeGreaterThanOrEqual(6);
    expect(points.some((p) => p.includes('history.append'))).toBe(true);
    expect(points.some((p) => p.includes('mediaJobs.claim'))).toBe(true);
    expect(points.some((p) => p.includes('history.finalize'))).toBe(true);
    console.log(`crash points covered: ${points.length}\n  ${points.join('\n  ')}`);
  }, 120_000);
});
