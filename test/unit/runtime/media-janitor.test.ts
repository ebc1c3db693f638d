import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';
import { testMedia } from '../../support/test-media.ts';
import { interceptStore } from '../../support/store-proxy.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const CID = '4915550900';
const HOUR = 3_600_000;

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) h.runtime.halt();
  for (const t of opened.splice(0)) await t.dispose();
});

/** A runtime whose clock the test moves, one worker slot, the janitor driven by hand. */
async function start(options: { failJobInserts?: number; failPoolMoves?: () => boolean } = {}) {
  const t = await openTestStore('parley_janitor');
  opened.push(t);
  let inserts = options.failJobInserts ?? 0;
  const store = interceptStore(t.store, (label, _args, call) => {
    if (label === 'mediaJobs.insert' && inserts-- > 0) return Promise.reject(new Error('insert lost'));
    if (label === 'mediaJobs.assignPool' && options.failPoolMoves?.() === true) return Promise.reject(new Error('store blip'));
    return call();
  });
  const clock = { now: Date.now() };
  const processor = controlledProcessor();
  const files = createMemoryMediaStore();
  const h = await startRuntime(store, {
    clock: () => clock.now,
    media: { ...testMedia(processor.processor, { concurrency: 1, store: files }), janitor: { intervalMs: HOUR, staleMs: 3 * HOUR, orphanGraceMs: 0, failedRetentionMs: 24 * HOUR } },
    worker: { pollMs: 20, leaseMs: 60_000, maxAttempts: 3 },
  });
  running.push(h);
  return { t, h, clock, processor, files };
}

const contents = (h: Harness, bot: string) => h.runtime.conversations.queue(bot, CID).then((q) => q.getSnapshot().context.window.messages.map((m) => m.content));

describe('media janitor', () => {
  it('dead-letters a job left waiting past the stale age with a note, and leaves a job whose worker holds a live lease', async () => {
    const { t, h, clock, processor } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice', 'V-running');
    const runningJob = await processor.next();
    await h.provider.media(bot, CID, 'image', 'I-waiting');
    const waiting = (await t.store.mediaJobs.list({ botId: bot })).find((j) => j.id !== runningJob.id);
    expect(waiting?.state).toBe('pending');

    expect(await h.runtime.janitor.run()).toEqual({ deadLettered: 0, placeholdersEnded: 0, orphansRemoved: 0, failedDiscarded: 0, rerouted: 0 });
    clock.now += 4 * HOUR;
    // The running job's worker renews its lease: it is not stale, however old.
    await h.runtime.jobs.dispatch(runningJob.id, { type: 'job.heartbeat', attempt: runningJob.attempt, leaseUntil: clock.now + 60_000 });
    expect(await h.runtime.janitor.run()).toMatchObject({ deadLettered: 1 });
    expect(await t.store.mediaJobs.get(waiting!.id)).toMatchObject({ state: 'failed', error: 'not processed within 3 h' });
    expect(await t.store.mediaJobs.get(runningJob.id)).toMatchObject({ state: 'processing' });
    expect(await eventually(() => contents(h, bot), (c) => !c[1]!.includes('(processing)'))).toEqual([
      '[Voice message] (processing)',
      '[Image] (could not be processed: not processed within 3 h)',
    ]);
    expect(h.delivered.filter((d) => d.botId === bot).map((d) => d.content)).toEqual(['[Image] (could not be processed: not processed within 3 h)']);
  });

  it('dead-letters a job whose worker went silent, and the worker\'s late result is discarded, never delivered (race e)', async () => {
    const { t, h, clock, processor } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice', 'V-silent');
    const job = await processor.next();
    clock.now += 4 * HOUR;
    expect(await h.runtime.janitor.run()).toMatchObject({ deadLettered: 1 });
    processor.complete(job.id, 'too late');
    await eventually(() => h.runtime.stats.lateResultsDiscarded, (n) => n === 1);
    expect(await t.store.mediaJobs.get(job.id)).toMatchObject({ state: 'failed' });
    const heard = h.delivered.filter((d) => d.botId === bot).map((d) => d.content);
    expect(heard).toEqual(['[Voice message] (could not be processed: not processed within 3 h)']);
  });

  it('ends a placeholder whose job was never stored with a note', async () => {
    const { t, h, clock } = await start({ failJobInserts: 10 });
    const bot = await connectedBot(h);
    // The job insert fails on every try: the provider hears the error, the row stays a placeholder.
    await expect(h.provider.media(bot, CID, 'document', 'D-lost')).rejects.toThrow();
    const [row] = await t.store.history.list(bot, CID);
    expect(row).toMatchObject({ status: 'placeholder' });
    expect(await h.runtime.janitor.run()).toMatchObject({ placeholdersEnded: 0 });
    clock.now += 4 * HOUR;
    expect(await h.runtime.janitor.run()).toMatchObject({ placeholdersEnded: 1 });
    const [ended] = await t.store.history.list(bot, CID);
    expect(ended).toMatchObject({ status: 'failed', content: '[Document] (could not be processed: its processing job was lost)' });
    expect(await h.runtime.janitor.run()).toMatchObject({ placeholdersEnded: 0 });
  });

  it('removes staged files no job refers to and keeps the ones a job still needs', async () => {
    const { h, files, processor, clock } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice', 'V-kept');
    await processor.next();
    const orphan = randomUUID();
    await files.put(orphan, new Uint8Array([1, 2, 3]), { maxBytes: 10 });
    const before = [...files.files.keys()];
    expect(before).toHaveLength(2);
    clock.now += 1000;
    expect(await h.runtime.janitor.run()).toMatchObject({ orphansRemoved: 1 });
    expect([...files.files.keys()]).toEqual(before.filter((k) => k !== orphan));
  });

  it('keeps a failed job\'s file for a retry until its retention ends, then discards the job and deletes the file', async () => {
    const { t, h, clock, processor, files } = await start();
    const bot = await connectedBot(h);
    await h.provider.media(bot, CID, 'voice', 'V-unreadable');
    const job = await processor.next();
    processor.answer(job.id, { status: 'unreadable', reason: 'transcription unavailable: no OpenAI key configured' });
    await eventually(() => t.store.mediaJobs.get(job.id), (j) => j?.statePath === 'failed.notified');
    expect(files.files.size).toBe(1);
    clock.now += 23 * HOUR;
    expect(await h.runtime.janitor.run()).toMatchObject({ failedDiscarded: 0 });
    expect(files.files.size).toBe(1);
    clock.now += 2 * HOUR;
    expect(await h.runtime.janitor.run()).toMatchObject({ failedDiscarded: 1 });
    expect(await t.store.mediaJobs.get(job.id)).toMatchObject({ state: 'discarded' });
    expect(files.files.size).toBe(0);
    expect(h.runtime.staging.stagedBytes()).toBe(0);
    // The conversation keeps its note.
    expect(await contents(h, bot)).toEqual(['[Voice message] (could not be processed: transcription unavailable: no OpenAI key configured)']);
  });

  it('moves jobs a failed pool change left in a pool that no longer exists to the pools that serve them', async () => {
    let failing = false;
    const { t, h, processor } = await start({ failPoolMoves: () => failing });
    const bot = await connectedBot(h);
    const pools = h.runtime.mediaJobs.pools;
    await pools.setBotPools(bot, [{ name: 'own', kinds: [], mimetypes: [], processor: 'test', concurrency: 1 }]);
    await h.provider.media(bot, CID, 'voice', 'V-running');
    const running = await processor.next();
    await h.provider.media(bot, CID, 'voice', 'V-waiting');
    const waiting = (await t.store.mediaJobs.list({ botId: bot })).find((j) => j.id !== running.id)!;
    expect(waiting).toMatchObject({ state: 'pending', pool: `${bot}/own` });

    failing = true;
    await expect(pools.setBotPools(bot, undefined)).rejects.toThrow('store blip');
    failing = false;
    expect(await t.store.mediaJobs.get(waiting.id)).toMatchObject({ state: 'pending', pool: `${bot}/own` });
    expect(await h.runtime.janitor.run()).toMatchObject({ rerouted: 1 });
    expect(await t.store.mediaJobs.get(waiting.id)).toMatchObject({ pool: 'media' });
    await eventually(() => processor.running().map((j) => j.id), (ids) => ids.includes(waiting.id));
  });
});
