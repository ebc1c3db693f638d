import { afterEach, describe, expect, it } from 'vitest';
import type { MediaJobContext, MediaJobEffects } from '../../../machines/media-job.machine.ts';
import type { MediaJobRecord, MediaJobStore } from '../../../src/ports/media-job-store.port.ts';
import type { EffectTable } from '../../../src/runtime/actors/effect-table.ts';
import { createMediaJobHost } from '../../../src/runtime/media-jobs/media-job-host.ts';
import type { JobScope, MediaJobHost } from '../../../src/runtime/media-jobs/media-job-host.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { interceptRepository, interceptStore } from '../../support/store-proxy.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const CID = '4915550900';
const LEASE = 60_000;

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.runtime.shutdown();
  for (const t of opened.splice(0)) await t.dispose();
});

async function fresh(): Promise<TestStore> {
  const t = await openTestStore('parley_held');
  opened.push(t);
  return t;
}

/** Store calls by label, e.g. `mediaJobs.get`. */
function counting() {
  const calls = new Map<string, number>();
  return {
    calls,
    count: (label: string) => calls.get(label) ?? 0,
    intercept: (label: string, _args: unknown[], call: () => Promise<unknown>) => {
      calls.set(label, (calls.get(label) ?? 0) + 1);
      return call();
    },
  };
}

/**
 * A media-job host on the run's store with recording effects; its finalize effect reports
 * delivery as the runtime's does, acknowledging itself in the delivered write.
 */
function hostOn(jobs: MediaJobStore) {
  const ran: { type: keyof MediaJobEffects; attempt: number | null }[] = [];
  const late: { host?: MediaJobHost } = {};
  const record = (type: keyof MediaJobEffects) => (_params: unknown, { item }: JobScope) => void ran.push({ type, attempt: item.attempt });
  const effects = {
    finalizePlaceholder: {
      durable: true,
      async run(_params, { item, effectId }) {
        ran.push({ type: 'finalizePlaceholder', attempt: item.attempt });
        await late.host!.dispatch(item.id, { type: 'job.delivered' }, { held: item, acknowledge: effectId === null ? [] : [effectId] });
      },
    },
    reopenPlaceholder: { durable: true, run: record('reopenPlaceholder') },
    releaseMedia: { durable: true, run: record('releaseMedia') },
    deadLetter: { durable: false, run: record('deadLetter') },
    discardLateResult: { durable: false, run: record('discardLateResult') },
  } satisfies EffectTable<MediaJobEffects, JobScope>;
  const host = createMediaJobHost({ jobs, effects });
  late.host = host;
  return { host, ran };
}

const input = (jobId: string, botId: string) => ({ jobId, botId, correspondentId: CID, messageId: 1, kind: 'voice' as const, caption: null, fileName: null, maxAttempts: 3 });
const row = (id: string, botId: string) => ({
  id, botId, kind: 'voice', line: null, lineSeq: null, correspondentId: CID, messageId: 1, mimetype: 'audio/ogg',
  mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null,
});
const contextOf = (job: MediaJobRecord | null) => (job?.snapshot as { context: MediaJobContext }).context;
const processed = { status: 'processed' as const, text: 'the transcript' };

describe('reports on the item the caller holds', () => {
  it('runs a media job without reading it back and with one acknowledgement, leaving no effect behind (I4, I11)', async () => {
    const t = await fresh();
    const c = counting();
    const h = await startRuntime(interceptStore(t.store, c.intercept), { worker: { pollMs: 600_000, leaseMs: 60_000, concurrency: 1 } });
    running.push(h);
    const bot = await connectedBot(h);
    c.calls.clear();
    await h.provider.media(bot, CID, 'voice');
    const [job] = await eventually(() => t.store.mediaJobs.list({ botId: bot }), (j) => j[0]?.state === 'delivered');
    await eventually(() => c.count('mediaJobs.acknowledgeEffects'), (n) => n >= 1);
    await eventually(() => h.delivered.filter((d) => d.botId === bot).map((d) => d.content), (m) => m.length === 1);
    expect(c.count('mediaJobs.get')).toBe(0);
    // The claim's record, the completion (result and finalize effect), the delivery (release effect, finalize acknowledged).
    expect(c.count('mediaJobs.compareAndSet')).toBe(3);
    // Only the release effect is acknowledged on its own.
    expect(c.count('mediaJobs.acknowledgeEffects')).toBe(1);
    expect((await t.store.mediaJobs.get(job!.id))?.effects).toEqual([]);
  });

  it('decides a late report held at an old attempt again on the row, which discards it (I5)', async () => {
    const t = await fresh();
    const { host, ran } = hostOn(t.store.mediaJobs);
    await host.create(input('late-1', 'b-held'), row('late-1', 'b-held'));
    const held = await host.claim('w1', LEASE);
    expect(held).toMatchObject({ state: 'processing', attempt: 1, owner: 'w1' });
    // The lease lapses and another worker claims the job: the first worker's held item is stale.
    await host.dispatch('late-1', { type: 'job.lease-expired', attempt: 1, now: Date.now() + 2 * LEASE });
    const second = await host.claim('w2', LEASE);
    expect(second).toMatchObject({ attempt: 2, owner: 'w2' });

    const after = await host.dispatch('late-1', { type: 'job.completed', attempt: 1, outcome: processed }, { held: held! });
    expect(after).toMatchObject({ state: 'processing', attempt: 2, owner: 'w2' });
    expect(contextOf(after)).toMatchObject({ result: null, discardedResults: 1 });
    expect(ran.map((r) => r.type)).toEqual(['discardLateResult']);

    await host.dispatch('late-1', { type: 'job.completed', attempt: 2, outcome: processed }, { held: second! });
    const done = await t.store.mediaJobs.get('late-1');
    expect(done).toMatchObject({ state: 'delivered', attempt: 2, effects: [] });
    expect(ran.map((r) => `${r.type}@${r.attempt}`)).toEqual(['discardLateResult@2', 'finalizePlaceholder@2', 'releaseMedia@2']);
  });

  it('reads the row when the decision on a stale held item would write nothing', async () => {
    const t = await fresh();
    const { host } = hostOn(t.store.mediaJobs);
    await host.create(input('stale-1', 'b-held'), row('stale-1', 'b-held'));
    const held = (await host.claim('w1', LEASE))!;
    await host.dispatch('stale-1', { type: 'bot.stopped' });
    expect(await t.store.mediaJobs.get('stale-1')).toMatchObject({ statePath: 'holding.claimed' });
    // On the held item (bot running) `bot.started` changes nothing; on the row it resumes the job.
    const after = await host.dispatch('stale-1', { type: 'bot.started' }, { held });
    expect(after).toMatchObject({ statePath: 'processing', attempt: 1 });
    expect(contextOf(await t.store.mediaJobs.get('stale-1'))).toMatchObject({ botActive: true });
  });

  it('leaves an effect whose report wrote nothing to its runner to acknowledge', async () => {
    const t = await fresh();
    const c = counting();
    const jobs = interceptRepository('mediaJobs', t.store.mediaJobs, c.intercept);
    const { host, ran } = hostOn(jobs);
    await host.create(input('left-1', 'b-held'), row('left-1', 'b-held'));
    const held = (await host.claim('w1', LEASE))!;
    const done = await host.dispatch('left-1', { type: 'job.completed', attempt: 1, outcome: processed }, { held });
    expect(done.effects.map((e) => e.type)).toEqual(['finalizePlaceholder']);
    const delivered = await t.store.mediaJobs.get('left-1');
    expect(delivered).toMatchObject({ state: 'delivered', effects: [] });
    // A finalize effect left stored on a delivered job (a process that died before acknowledging it).
    const leftover = { id: 'left-1@old#0', type: 'finalizePlaceholder', params: (done.effects[0]!).params };
    const { state, statePath, attempt, owner, leaseUntil, notBefore, error, machineVersion, snapshot } = delivered!;
    await t.store.mediaJobs.compareAndSet('left-1', delivered!.version, { state, statePath, attempt, owner, leaseUntil, notBefore, error, machineVersion, snapshot, effects: [leftover] }, new Date());
    c.calls.clear();
    ran.length = 0;
    expect(await host.recoverEffects()).toBe(1);
    expect(ran.map((r) => r.type)).toEqual(['finalizePlaceholder']);
    expect(c.count('mediaJobs.acknowledgeEffects')).toBe(1);
    expect(await t.store.mediaJobs.get('left-1')).toMatchObject({ state: 'delivered', effects: [] });
  });
});
