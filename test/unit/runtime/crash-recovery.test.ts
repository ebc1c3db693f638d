import { describe, expect, it } from 'vitest';
import { crashingStore } from '../../support/crashing-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';
import { testMedia } from '../../support/test-media.ts';

const CID = '4915550200';
const PID = 'WAMID-CRASH';
const FINAL = '[Voice message] the transcript';

/** One write of the media path: the `occurrence`-th call of `label` after the message arrives. */
interface WritePoint {
  readonly label: string;
  readonly occurrence: number;
}

const PROCESSOR = async () => ({ status: 'processed' as const, text: 'the transcript' });
// Workers wake on new jobs; a long poll keeps idle claim attempts out of the path.
const WORKER = { pollMs: 600_000, leaseMs: 1000, concurrency: 1 };

const describePoint = (p: WritePoint) => `${p.label} #${p.occurrence}`;

/** The writes one media message causes when nothing dies, in the order they happened. */
async function referencePath(): Promise<WritePoint[]> {
  const t = await openTestStore('parley_crash');
  const crashing = crashingStore(t.store);
  const h = await startRuntime(crashing.store, { media: testMedia(PROCESSOR, { concurrency: 1, store: crashing.media(createMemoryMediaStore()) }), worker: WORKER });
  try {
    const bot = await connectedBot(h);
    const from = crashing.log.length;
    await h.provider.media(bot, CID, 'voice', PID);
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (j) => j[0]?.state === 'delivered');
    const to = crashing.log.length;
    await h.runtime.shutdown();
    const counts = new Map<string, number>();
    // The outbox's poll claims on its own clock; its empty claims are no part of this path.
    return crashing.log.slice(from, to).filter((label) => !label.startsWith('outbox.')).map((label) => {
      counts.set(label, (counts.get(label) ?? 0) + 1);
      return { label, occurrence: counts.get(label)! };
    });
  } finally {
    await t.dispose();
  }
}

async function crashAt(point: WritePoint): Promise<boolean> {
  const t = await openTestStore('parley_crash');
  const crashing = crashingStore(t.store);
  const processor = PROCESSOR;
  // The staging directory outlives the process; only the writes of the first process die with it.
  const files = createMemoryMediaStore();
  const first: Harness = await startRuntime(crashing.store, { media: testMedia(processor, { concurrency: 1, store: crashing.media(files) }), worker: WORKER });
  const second: Harness[] = [];
  try {
    const bot = await connectedBot(first);
    crashing.armBefore(point.label, crashing.occurrences(point.label) + point.occurrence);
    const acked = await first.provider.media(bot, CID, 'voice', PID).then(() => true, () => false);
    await eventually(async () => crashing.isDead() || (await t.store.mediaJobs.list({ botId: bot }))[0]?.state === 'delivered', Boolean);
    first.runtime.halt();
    const died = crashing.isDead();

    // I8: an acknowledged message is in history from the moment it was acknowledged.
    const before = await t.store.history.list(bot, CID);
    if (acked) expect(before.map((r) => r.providerMessageId)).toEqual([PID]);

    const hourLater = () => Date.now() + 3_600_000;
    const h = await startRuntime(t.store, { media: testMedia(processor, { store: files }), clock: hourLater });
    second.push(h);
    await eventually(() => h.runtime.bots.state(bot), (s) => s === 'connected');
    // An unacknowledged message is delivered again by the provider.
    if (!acked) await h.provider.media(bot, CID, 'voice', PID);
    if (process.env['CRASH_DEBUG']) console.log('DBG', describePoint(point), acked, crashing.log, JSON.stringify(await t.store.history.list(bot, CID)), JSON.stringify((await t.store.mediaJobs.list({})).map((j) => [j.state, j.attempt, j.owner])));

    const jobs = await eventually(() => t.store.mediaJobs.list({ botId: bot }), (j) => j.length === 1 && j[0]?.state === 'delivered');
    const rows = await t.store.history.list(bot, CID);
    // I4 and I9: the result reached its placeholder exactly once, in place.
    expect(rows.map((r) => [r.seq, r.status, r.content])).toEqual([[1, 'final', FINAL]]);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => [m.id, m.content, m.mediaJobId])).toEqual([[1, FINAL, null]]);
    expect(window.totalChars).toBe(FINAL.length);
    // I3 and I11: listeners heard one notification of the finalized message across both lives of
    // the process. A crash between notifying and recording that it was done repeats that same
    // notification after restart (same deliveryId, marked recovered), never a second one.
    await new Promise((r) => setTimeout(r, 30));
    const heard = [...first.delivered, ...h.delivered].filter((d) => d.botId === bot);
    expect(heard.map((d) => d.content)).toEqual(heard.map(() => FINAL));
    expect(new Set(heard.map((d) => d.deliveryId)).size).toBe(1);
    expect(heard.filter((d) => !d.recovered).length).toBeLessThanOrEqual(1);
    expect(jobs[0]!.attempt).toBeGreaterThanOrEqual(1);
    // I10: the staged file is gone once the job is delivered, wherever the process died; a file
    // staged for a download the crash left unacknowledged is the janitor's, once it is old.
    await eventually(() => files.files.size, (n) => n <= 1);
    await h.runtime.janitor.run();
    expect([...files.files.keys()]).toEqual([]);
    return died;
  } finally {
    first.runtime.halt();
    for (const h of second) await h.runtime.shutdown();
    await t.dispose();
  }
}

describe('crash recovery of the media-job path', () => {
  it('delivers a media result exactly once wherever the process dies (I4, I5, I8)', async () => {
    const path = await referencePath();
    const labels = path.map((p) => p.label);
    // The path has the writes it should before any crash is tried.
    expect(labels).toEqual(expect.arrayContaining(['media.put', 'history.append', 'mediaJobs.insert', 'mediaJobs.claim', 'history.finalize', 'media.delete']));
    expect(labels.filter((l) => l === 'mediaJobs.compareAndSet').length).toBeGreaterThanOrEqual(3);
    const missed: string[] = [];
    for (const point of path) {
      if (!(await crashAt(point))) missed.push(describePoint(point));
    }
    // Every media-path write is a crash point in every run. Queue-snapshot writes are coalesced,
    // so how many of them a run makes depends on timing; one that did not happen is not a crash point.
    expect(missed.filter((m) => !m.startsWith('actors.'))).toEqual([]);
    console.log(`crash points covered: ${path.length - missed.length} of ${path.length}\n  ${path.map(describePoint).join('\n  ')}`);
  }, 120_000);

  it('delivers a result once when a newer message evicted it before the process died short of marking the job delivered', async () => {
    const t = await openTestStore('parley_crash');
    const crashing = crashingStore(t.store);
    // Holds the write that marks the job delivered while a newer message pushes the result out of
    // a one-message window; the process then dies on that very write.
    const gate = Promise.withResolvers<void>();
    let deliveredWrite = Number.POSITIVE_INFINITY;
    let jobWrites = 0;
    const jobs = crashing.store.mediaJobs;
    const store = {
      ...crashing.store,
      mediaJobs: { ...jobs, compareAndSet: async (...args: Parameters<typeof jobs.compareAndSet>) => {
        if (++jobWrites === deliveredWrite) await gate.promise;
        return jobs.compareAndSet(...args);
      } },
    };
    const limits = { maxMessages: 1, maxCharacters: 10_000, maxAgeDays: 7, maxCharactersPerMessage: 1000 };
    const first = await startRuntime(store, { processor: PROCESSOR, worker: WORKER, limitsFor: () => limits });
    let second: Harness | undefined;
    try {
      const bot = await connectedBot(first);
      // The third job write after arrival marks it delivered (claimed, completed, delivered).
      deliveredWrite = jobWrites + 3;
      crashing.armBefore('mediaJobs.compareAndSet', crashing.occurrences('mediaJobs.compareAndSet') + 3);
      await first.provider.media(bot, CID, 'voice', PID);
      await eventually(() => first.delivered.length, (n) => n === 1);
      await first.provider.text(bot, CID, 'a newer message');
      await first.runtime.conversations.flush();
      gate.resolve();
      await eventually(() => crashing.isDead(), Boolean);
      first.runtime.halt();
      const [job] = await t.store.mediaJobs.list({ botId: bot });
      expect(job?.state).toBe('completed');
      const stored = await t.store.actors.get(`${bot}|${CID}`);
      expect((stored?.snapshot as { context: { window: { members: number[][] } } }).context.window.members).toEqual([[2, 2]]);
      expect(first.delivered.map((d) => d.content)).toEqual([FINAL, 'a newer message']);

      second = await startRuntime(t.store, { processor: PROCESSOR, limitsFor: () => limits, clock: () => Date.now() + 3_600_000 });
      await eventually(() => t.store.mediaJobs.get(job!.id), (j) => j?.state === 'delivered');
      await new Promise((r) => setTimeout(r, 30));
      expect(second.delivered).toEqual([]);
      expect((await second.runtime.conversations.queue(bot, CID)).getSnapshot().context.window.messages.map((m) => m.id)).toEqual([2]);
      expect((await t.store.history.list(bot, CID)).map((r) => [r.seq, r.status])).toEqual([[1, 'final'], [2, 'final']]);
    } finally {
      gate.resolve();
      first.runtime.halt();
      await second?.runtime.shutdown();
      await t.dispose();
    }
  });
});
