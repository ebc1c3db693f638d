import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FinalizePlaceholderParams } from '../../../machines/media-job.machine.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import { createMediaJobs } from '../../../src/runtime/media-jobs/media-jobs.ts';
import type { MediaJobs, PlaceholderConversation } from '../../../src/runtime/media-jobs/media-jobs.ts';
import { DEFAULT_STAGING_LIMITS, createMediaStaging } from '../../../src/runtime/media-jobs/media-staging.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';
import { controlledProcessor, eventually } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

/**
 * Media jobs on several instances sharing one store: any instance's worker processes a job, but
 * its placeholder is written where its bot is hosted (its conversation lives there), once.
 */

const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
const X = 'bot-x';
const CID = '4915550711';
const RESULT = '[Voice message] processed on another instance';

/** A conversation port recording what it was asked; `gate` holds every finalize. */
function conversation(gate?: Promise<void>) {
  const finalized: FinalizePlaceholderParams[] = [];
  const calls: string[] = [];
  const port: PlaceholderConversation = {
    async finalize(params) {
      finalized.push(params);
      calls.push(`finalize ${params.status}`);
      await gate;
    },
    async reopen() {
      calls.push('reopen');
    },
  };
  return { port, finalized, calls };
}

const opened: TestStore[] = [];
const running: MediaJobs[] = [];
afterEach(async () => {
  for (const jobs of running.splice(0)) jobs.halt();
  for (const t of opened.splice(0)) await t.dispose();
});

// One media directory (or bucket) for every instance, as they would share one.
const files = createMemoryMediaStore();

/** One instance's media jobs: `hosted` says whether bot X lives here. */
function instance(store: Store, name: string, hosted: () => boolean, gate?: Promise<void>, pollMs = 20) {
  const processor = controlledProcessor();
  const conv = conversation(gate);
  const jobs = createMediaJobs({
    store: store.mediaJobs,
    conversations: conv.port,
    processors: { test: processor.processor },
    pools: [{ name: 'media', kinds: [], mimetypes: [], processor: 'test', concurrency: 2 }],
    staging: createMediaStaging({ store: files, limits: DEFAULT_STAGING_LIMITS, logger }),
    owner: name,
    worker: { leaseMs: 1000, pollMs, maxAttempts: 3 },
    logger,
    clock: Date.now,
    stats: { deadLettered: 0, lateResultsDiscarded: 0 },
    hosts: (botId) => botId === X && hosted(),
    hostedBotIds: () => (hosted() ? [X] : []),
  });
  running.push(jobs);
  return { jobs, processor, finalized: conv.finalized, calls: conv.calls };
}

async function start(jobs: MediaJobs): Promise<void> {
  await jobs.recover();
  jobs.start();
}

/** A voice note of bot X, staged and its job created (by X's host, which has not started its workers). */
async function voiceJob(owner: MediaJobs): Promise<{ jobId: string; key: string }> {
  const key = randomUUID();
  const { sizeBytes } = await files.put(key, new Uint8Array([1, 2, 3]), { maxBytes: 100 });
  const jobId = randomUUID();
  await owner.create(
    { jobId, botId: X, correspondentId: CID, messageId: 1, kind: 'voice', caption: null, fileName: null },
    { mimetype: 'audio/ogg' },
    { status: 'staged', key, sizeBytes },
  );
  return { jobId, key };
}

describe('media jobs of a bot hosted on another instance', () => {
  it('finalizes once, on the instance hosting the bot, a job another instance\'s worker completed', async () => {
    const t = await openTestStore('parley_media_instances');
    opened.push(t);
    const a = instance(t.store, 'instance-a', () => true);
    const b = instance(t.store, 'instance-b', () => false);
    await start(b.jobs);
    const { jobId, key } = await voiceJob(a.jobs);
    // Nothing in B heard of the job: B's poll finds it.
    const job = await b.processor.next();
    await start(a.jobs);

    b.processor.complete(job.id, 'processed on another instance');
    const done = await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.state === 'delivered');
    await new Promise((r) => setTimeout(r, 150));

    expect(b.finalized).toEqual([]);
    expect(b.jobs.hosting.leftForHost).toBe(1);
    expect(a.finalized).toEqual([{ jobId, botId: X, correspondentId: CID, messageId: 1, content: RESULT, status: 'final' }]);
    expect(a.processor.running()).toEqual([]);
    expect(done).toMatchObject({ attempt: 1, owner: null });
    expect((await t.store.mediaJobs.get(jobId))?.effects).toEqual([]);
    expect(files.files.has(key)).toBe(false);
  });

  it('loses nothing when the hosting instance dies while finalizing: the next one to host the bot finalizes once', async () => {
    const t = await openTestStore('parley_media_instances');
    opened.push(t);
    // A's conversation never answers: A dies with the finalize under way.
    const a = instance(t.store, 'instance-a', () => true, new Promise<void>(() => {}));
    const b = instance(t.store, 'instance-b', () => false);
    const { jobId } = await voiceJob(a.jobs);
    await start(b.jobs);
    const job = await b.processor.next();
    await start(a.jobs);
    b.processor.complete(job.id, 'processed on another instance');
    await eventually(() => a.finalized.length, (n) => n === 1);
    a.jobs.halt();
    expect(await t.store.mediaJobs.get(jobId)).toMatchObject({ state: 'completed', effects: [{ type: 'finalizePlaceholder' }] });

    // The bot is taken up again (A restarted, or another instance took it over).
    const next = instance(t.store, 'instance-a2', () => true);
    await start(next.jobs);
    await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.state === 'delivered');
    await new Promise((r) => setTimeout(r, 150));
    expect(next.finalized).toEqual([{ jobId, botId: X, correspondentId: CID, messageId: 1, content: RESULT, status: 'final' }]);
    expect(b.finalized).toEqual([]);
  });

  it('leaves placeholder work stored until the bot is hosted, then runs it when asked at once (a bot taken up)', async () => {
    const t = await openTestStore('parley_media_instances');
    opened.push(t);
    let hostedOnA = false;
    const a = instance(t.store, 'instance-a', () => hostedOnA);
    const b = instance(t.store, 'instance-b', () => false);
    const { jobId } = await voiceJob(a.jobs);
    await start(b.jobs);
    const job = await b.processor.next();
    b.processor.complete(job.id, 'processed on another instance');
    await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.state === 'completed');
    // Nobody hosts the bot: A's recovery and adoption leave the placeholder alone.
    await start(a.jobs);
    expect(await a.jobs.adopt()).toBe(0);
    expect(a.finalized).toEqual([]);

    hostedOnA = true;
    expect(await a.jobs.adopt([X])).toBe(1);
    expect(a.finalized.map((p) => p.content)).toEqual([RESULT]);
    expect(await t.store.mediaJobs.get(jobId)).toMatchObject({ state: 'delivered', effects: [] });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.finalized).toHaveLength(1);
  });

  it('runs a finalize under way here once, though adoption passes list its job meanwhile', async () => {
    const t = await openTestStore('parley_media_instances');
    opened.push(t);
    let open = () => {};
    const a = instance(t.store, 'instance-a', () => true, new Promise<void>((r) => (open = r)));
    const { jobId } = await voiceJob(a.jobs);
    await start(a.jobs);
    const job = await a.processor.next();
    a.processor.complete(job.id, 'processed on another instance');
    await eventually(() => a.finalized.length, (n) => n === 1);
    // Passes run every 20 ms and find the finalize still stored while it waits on the conversation.
    await new Promise((r) => setTimeout(r, 150));
    expect(await t.store.mediaJobs.get(jobId)).toMatchObject({ state: 'completed', effects: [{ type: 'finalizePlaceholder' }] });
    open();
    await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.state === 'delivered');
    await new Promise((r) => setTimeout(r, 100));
    expect(a.finalized).toHaveLength(1);
  });

  it('reopens the placeholder for an operator retry decided elsewhere before the retry\'s result finalizes it', async () => {
    const t = await openTestStore('parley_media_instances');
    opened.push(t);
    // A looks for work left by others only once a minute: its own finalize must not overtake the reopen.
    const a = instance(t.store, 'instance-a', () => true, undefined, 60_000);
    const b = instance(t.store, 'instance-b', () => false);
    const { jobId } = await voiceJob(a.jobs);
    await start(a.jobs);
    const first = await a.processor.next();
    a.processor.answer(first.id, { status: 'unreadable', reason: 'no key configured' });
    await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.statePath === 'failed.notified');

    // The operator's retry reaches B, where the bot is not hosted: the reopen waits for A.
    await b.jobs.host.dispatch(jobId, { type: 'job.retry' });
    expect(await t.store.mediaJobs.get(jobId)).toMatchObject({ state: 'pending', effects: [{ type: 'reopenPlaceholder' }] });
    a.jobs.pools.wakeAll();
    const second = await a.processor.next();
    a.processor.complete(second.id, 'processed on another instance');
    await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.state === 'delivered');
    await new Promise((r) => setTimeout(r, 100));

    expect(a.calls).toEqual(['finalize failed', 'reopen', 'finalize final']);
    expect(b.calls).toEqual([]);
    expect((await t.store.mediaJobs.get(jobId))?.effects).toEqual([]);
  });

  it('delivers at the bot\'s start on its host a result another instance completed while the bot was stopped (I6)', async () => {
    const t = await openTestStore('parley_media_instances');
    opened.push(t);
    const a = instance(t.store, 'instance-a', () => true);
    const b = instance(t.store, 'instance-b', () => false);
    const { jobId } = await voiceJob(a.jobs);
    await start(b.jobs);
    const job = await b.processor.next();
    await start(a.jobs);
    // The bot stops on A (its jobs are held), while B's worker still runs the job.
    await a.jobs.host.dispatch(jobId, { type: 'bot.stopped' });
    b.processor.complete(job.id, 'processed on another instance');
    await eventually(() => t.store.mediaJobs.get(jobId), (j) => j?.state === 'completed');
    await new Promise((r) => setTimeout(r, 60));
    expect([...a.finalized, ...b.finalized]).toEqual([]);

    // The bot starts again on A: its reap finalizes the placeholder there.
    await a.jobs.host.dispatch(jobId, { type: 'bot.started' });
    expect(await t.store.mediaJobs.get(jobId)).toMatchObject({ state: 'delivered', effects: [] });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.finalized.map((p) => p.content)).toEqual([RESULT]);
    expect(b.finalized).toEqual([]);
  });
});
