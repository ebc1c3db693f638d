import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueLimits } from '../../../src/domain/queue-message.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';

const DAY = 86_400_000;
const CID = '4915550100';

// DESIGN §5: each race the earlier implementation lost, as one named test against the real runtime and store.
describe('races', () => {
  let t: TestStore;
  const running: Harness[] = [];
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;

  beforeEach(async () => {
    t = await openTestStore('parley_races');
    now = Date.UTC(2026, 0, 1);
  });
  afterEach(async () => {
    for (const h of running.splice(0)) h.runtime.halt();
    await t.dispose();
  });

  async function start(limits?: Partial<QueueLimits>, processor = controlledProcessor(), historyWindowMs = 1) {
    const h = await startRuntime(t.store, {
      clock,
      historyWindowMs,
      processor: processor.processor,
      limitsFor: () => ({ maxMessages: 100, maxCharacters: 10_000, maxAgeDays: 7, maxCharactersPerMessage: 1000, ...limits }),
      worker: { pollMs: 20, leaseMs: 60_000, concurrency: 8 },
    });
    running.push(h);
    return { h, processor };
  }
  const windowOf = async (h: Harness, bot: string) => (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
  const ofBot = (h: Harness, bot: string) => h.delivered.filter((d) => d.botId === bot);

  it('(a) accepts a new message when the queue holds only placeholders', async () => {
    const { h, processor } = await start({ maxMessages: 2 });
    const bot = await connectedBot(h);
    for (let i = 0; i < 3; i++) await h.provider.media(bot, CID, 'image');
    await eventually(() => processor.running().length, (n) => n === 3);
    await h.provider.text(bot, CID, 'still there?');
    const window = await windowOf(h, bot);
    expect(window.messages.map((m) => m.mediaJobId === null)).toEqual([false, false, false, true]);
    expect(window.totalChars).toBe(window.messages.reduce((n, m) => n + m.size, 0));
    await eventually(() => ofBot(h, bot).map((d) => d.content), (c) => c.length === 1 && c[0] === 'still there?');
  });

  it('(b) evicts only aged unprotected messages when an old placeholder is at the head', async () => {
    const { h, processor } = await start({ maxAgeDays: 7 });
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice');
    now += 1000;
    await h.provider.text(bot, CID, 'old text');
    now += 6 * DAY;
    await h.provider.text(bot, CID, 'recent text');
    now += 2 * DAY;
    await h.provider.text(bot, CID, 'new text');
    const window = await windowOf(h, bot);
    expect(window.messages.map((m) => (m.mediaJobId === null ? m.content : 'placeholder'))).toEqual(['placeholder', 'recent text', 'new text']);
    expect(processor.running()).toHaveLength(1);
    expect((await t.store.history.list(bot, CID)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it('(c) delivers a result once after a crash between persisting it and updating the queue', async () => {
    const crashing = crashingStore(t.store);
    const first = await startRuntime(crashing.store, { clock, limitsFor: () => ({ maxMessages: 100, maxCharacters: 10_000, maxAgeDays: 7, maxCharactersPerMessage: 1000 }) });
    running.push(first);
    const bot = await connectedBot(first);
    crashing.armBefore('history.finalize');
    await first.provider.media(bot, CID, 'voice', 'C1');
    await eventually(() => crashing.isDead(), Boolean);
    first.runtime.halt();
    const [stored] = await t.store.mediaJobs.list({ botId: bot });
    expect(stored).toMatchObject({ state: 'completed' });
    expect((await t.store.history.list(bot, CID))[0]?.status).toBe('placeholder');

    const second = await startRuntime(t.store, { clock });
    running.push(second);
    await eventually(() => t.store.mediaJobs.get(stored!.id), (j) => j?.state === 'delivered');
    expect((await t.store.history.list(bot, CID)).map((r) => [r.status, r.content])).toEqual([['final', '[Voice message] text of voice']]);
    await eventually(() => ofBot(second, bot).length, (n) => n === 1);
    expect(ofBot(first, bot)).toHaveLength(0);
  });

  it('(d) still processes a job whose bot stopped between claim and processing, and reaps it at the next start', async () => {
    const { h, processor } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice', 'D1');
    const job = await processor.next();
    await h.runtime.bots.stop(bot);
    expect((await t.store.mediaJobs.get(job.id))?.statePath).toBe('holding.claimed');
    processor.complete(job.id, 'spoken while stopped');
    await eventually(() => t.store.mediaJobs.get(job.id), (j) => j?.state === 'completed');
    expect((await t.store.history.list(bot, CID))[0]?.status).toBe('placeholder');
    expect(ofBot(h, bot)).toHaveLength(0);
    await h.runtime.bots.start(bot);
    await eventually(() => t.store.mediaJobs.get(job.id), (j) => j?.state === 'delivered');
    expect((await t.store.history.list(bot, CID)).map((r) => [r.status, r.content])).toEqual([['final', '[Voice message] spoken while stopped']]);
    await eventually(() => ofBot(h, bot).length, (n) => n === 1);
  });

  it('(e) discards a late result after the janitor dead-lettered the job', async () => {
    const { h, processor } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'video');
    const job = await processor.next();
    await h.runtime.jobs.dispatch(job.id, { type: 'job.dead-lettered', reason: 'stale for 3 hours' });
    const [row] = await eventually(() => t.store.history.list(bot, CID), (r) => r[0]?.status === 'failed');
    expect(row?.content).toContain('could not be processed: stale for 3 hours');
    processor.complete(job.id, 'too late');
    await eventually(() => h.runtime.stats.lateResultsDiscarded, (n) => n === 1);
    expect((await t.store.history.list(bot, CID))[0]?.content).not.toContain('too late');
    expect((await t.store.mediaJobs.get(job.id))?.state).toBe('failed');
    expect(ofBot(h, bot).map((d) => d.content)).toEqual([row?.content]);
  });

  it('(j) discards the result of a worker still running when its lease was reclaimed', async () => {
    const { h, processor } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice');
    const first = await processor.next();
    // The first worker goes quiet past its lease; the sweeper returns the job and a worker takes it again.
    now += 61_000;
    await h.runtime.jobs.dispatch(first.id, { type: 'job.lease-expired', attempt: first.attempt, now });
    const second = await eventually(() => processor.running().filter((j) => j.attempt === first.attempt + 1), (jobs) => jobs.length === 1);
    processor.complete(first.id, 'from the worker that lost its claim', first.attempt);
    await eventually(() => h.runtime.stats.lateResultsDiscarded, (n) => n === 1);
    processor.complete(second[0]!.id, 'from the worker that holds the claim', second[0]!.attempt);
    await eventually(() => t.store.mediaJobs.get(first.id), (j) => j?.state === 'delivered');
    expect(ofBot(h, bot).map((d) => d.content)).toEqual(['[Voice message] from the worker that holds the claim']);
  });

  it('(k) keeps a lease a heartbeat extended after the sweeper listed it as expired', async () => {
    const { h, processor } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice');
    const job = await processor.next();
    const listedAt = now + 61_000;
    // The heartbeat lands first; the sweeper's decision, taken from its older listing, comes after.
    await h.runtime.jobs.dispatch(job.id, { type: 'job.heartbeat', attempt: job.attempt, leaseUntil: listedAt + 60_000 });
    await h.runtime.jobs.dispatch(job.id, { type: 'job.lease-expired', attempt: job.attempt, now: listedAt });
    expect(await t.store.mediaJobs.get(job.id)).toMatchObject({ state: 'processing', attempt: job.attempt, owner: h.runtime.owner });
    processor.complete(job.id, 'the live worker finished');
    await eventually(() => t.store.mediaJobs.get(job.id), (j) => j?.state === 'delivered');
    expect(h.runtime.stats.lateResultsDiscarded).toBe(0);
  });

  it('keeps the next message id above a placeholder restored with its snapshot (race (f) with the snapshot behind: placeholder-recovery.test.ts)', async () => {
    const first = await start();
    const bot = await connectedBot(first.h);
    await first.h.provider.text(bot, CID, 'one');
    await first.h.provider.media(bot, CID, 'image');
    await first.h.provider.media(bot, CID, 'sticker');
    await eventually(() => first.processor.running().length, (n) => n === 2);
    first.h.runtime.halt();
    const second = await start();
    await eventually(() => second.h.runtime.bots.state(bot), (s) => s === 'connected');
    await second.h.provider.text(bot, CID, 'after restart');
    const window = await windowOf(second.h, bot);
    const placeholderIds = window.messages.filter((m) => m.mediaJobId !== null).map((m) => m.id);
    expect(placeholderIds).toEqual([2, 3]);
    expect(window.messages.at(-1)).toMatchObject({ id: 4, content: 'after restart' });
    expect(window.nextId).toBe(5);
  });

  it('(g) flushes pending writes when ingestion stops and leaves placeholders pending', async () => {
    // Rows wait up to 2 s for company in the group commit: a stop must not wait for that, nor leave them behind.
    const { h } = await start(undefined, undefined, 2000);
    const bot = await connectedBot(h);
    const arrivals = [h.provider.text(bot, CID, 'a'), h.provider.media(bot, CID, 'document'), h.provider.text(bot, CID, 'b', 'P-b')];
    await new Promise((r) => setTimeout(r, 30));
    expect(await t.store.history.list(bot, CID)).toEqual([]);
    const started = performance.now();
    await h.runtime.bots.stop(bot);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(h.runtime.bots.state(bot)).toBe('stopped');
    await Promise.all(arrivals.map((a) => a.catch(() => undefined)));
    const rows = await t.store.history.list(bot, CID);
    expect(rows.map((r) => [r.seq, r.status])).toEqual([[1, 'final'], [2, 'placeholder'], [3, 'final']]);
    const [job] = await t.store.mediaJobs.list({ botId: bot });
    expect(job?.state).toBe('holding');
  });

  it('(h) stores a message delivered twice (notify, then append replay) once', async () => {
    const { h } = await start({ maxMessages: 1 });
    const bot = await connectedBot(h);
    await h.provider.text(bot, CID, 'hi', 'WAMID-1');
    await h.provider.text(bot, CID, 'hi', 'WAMID-1');
    await h.provider.text(bot, CID, 'next', 'WAMID-2');
    await h.provider.text(bot, CID, 'hi', 'WAMID-1');
    expect((await t.store.history.list(bot, CID)).map((r) => r.providerMessageId)).toEqual(['WAMID-1', 'WAMID-2']);
    await eventually(() => ofBot(h, bot).length, (n) => n === 2);
    expect(ofBot(h, bot).map((d) => d.content)).toEqual(['hi', 'next']);
    expect(h.runtime.stats.duplicates).toBe(2);
  });
});
