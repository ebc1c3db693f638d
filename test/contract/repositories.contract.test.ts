import type { Binary } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ensureIndexes } from '../../src/adapters/mongodb/mongo-store.ts';
import { COLLECTIONS, INDEXES } from '../../src/adapters/mongodb/collections.ts';
import { isParleyError } from '../../src/domain/errors.ts';
import type { HistoryRecord } from '../../src/ports/history-store.port.ts';
import type { MediaJobWrite, NewMediaJob } from '../../src/ports/media-job-store.port.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describe('store repositories', () => {
  const t = useTestStore('parley_repos');

  describe('indexes', () => {
    it('creates every declared index and re-applies them as a no-op', async () => {
      await ensureIndexes(t.db);
      for (const [collection, declared] of Object.entries(INDEXES)) {
        const names = (await t.db.collection(collection).listIndexes().toArray()).map((ix) => ix['name']);
        for (const ix of declared) expect(names).toContain(ix.name);
        expect(names).toHaveLength(declared.length + 1);
      }
    });
  });

  describe('index changes', () => {
    it('drops an index an earlier version created before applying the one that replaces it', async () => {
      const messages = t.db.collection(COLLECTIONS.messages);
      await messages.createIndex({ botId: 1, providerMessageId: 1 }, { name: 'botId_providerMessageId_unique', unique: true, partialFilterExpression: { providerMessageId: { $type: 'string' } } });
      await ensureIndexes(t.db);
      const names = (await messages.listIndexes().toArray()).map((ix) => ix['name']);
      expect(names).not.toContain('botId_providerMessageId_unique');
      expect(names).toContain('conversation_providerMessageId_unique');
    });
  });

  describe('actor snapshots', () => {
    const write = (state: string) => ({ machineVersion: 1, state, snapshot: { value: state, context: { n: state.length } } });

    it('inserts version 1 and refuses a second actor with the same id', async () => {
      const rec = await t.store.actors.insert({ id: 'actor-1', kind: 'bot', botId: 'b1', ...write('stopped') });
      expect(rec.version).toBe(1);
      const err = await t.store.actors.insert({ id: 'actor-1', kind: 'bot', botId: 'b1', ...write('stopped') }).catch((e: unknown) => e);
      expect(isParleyError(err, 'STORE_DUPLICATE_KEY')).toBe(true);
    });

    it('writes only when the expected version matches', async () => {
      await t.store.actors.insert({ id: 'actor-2', kind: 'media-job', botId: 'b1', ...write('pending') });
      const next = await t.store.actors.compareAndSet('actor-2', 1, write('processing'));
      expect(next).toMatchObject({ version: 2, state: 'processing', snapshot: { value: 'processing' } });
      expect(await t.store.actors.compareAndSet('actor-2', 1, write('failed'))).toBeNull();
      expect((await t.store.actors.get('actor-2'))?.state).toBe('processing');
    });

    it('lets exactly one of many concurrent writers win a version', async () => {
      await t.store.actors.insert({ id: 'actor-3', kind: 'correspondent-queue', botId: 'b1', ...write('active') });
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.store.actors.compareAndSet('actor-3', 1, write(`s${i}`))));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect((await t.store.actors.get('actor-3'))?.version).toBe(2);
    });

    it('lists by kind, bot and state, and deletes', async () => {
      await t.store.actors.insert({ id: 'actor-4', kind: 'media-job', botId: 'b2', ...write('pending') });
      expect((await t.store.actors.list({ kind: 'media-job' })).map((a) => a.id)).toEqual(['actor-2', 'actor-4']);
      expect((await t.store.actors.list({ kind: 'media-job', botId: 'b2' })).map((a) => a.id)).toEqual(['actor-4']);
      expect((await t.store.actors.list({ kind: 'media-job', states: ['processing'] })).map((a) => a.id)).toEqual(['actor-2']);
      expect(await t.store.actors.delete('actor-4')).toBe(true);
      expect(await t.store.actors.delete('actor-4')).toBe(false);
    });
  });

  describe('media jobs', () => {
    const job = (id: string, botId = 'b1', kind = 'voice'): NewMediaJob => ({
      id, botId, line: null, lineSeq: null, correspondentId: 'c1', messageId: 1, kind, mimetype: 'audio/ogg', mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null, machineVersion: 1, snapshot: { value: 'pending' },
    });
    const write = (over: Partial<MediaJobWrite>): MediaJobWrite => ({
      state: 'pending', statePath: 'pending', attempt: 1, owner: null, leaseUntil: null, notBefore: null, error: null,
      machineVersion: 1, snapshot: { value: over.statePath ?? 'pending' }, ...over,
    });

    it('claims each pending job once across concurrent claimers', async () => {
      for (let i = 0; i < 40; i++) await t.store.mediaJobs.insert(job(`cc-${i}`, `cc-bot-${i % 4}`), at(i));
      const seen = new Set<string>();
      await Promise.all(
        Array.from({ length: 6 }, async (_, w) => {
          for (;;) {
            const claimed = await t.store.mediaJobs.claim({ owner: `w${w}`, leaseMs: 30_000, now: at(1000), kinds: ['voice'] });
            if (claimed === null) return;
            expect(seen.has(claimed.id)).toBe(false);
            seen.add(claimed.id);
            expect(claimed).toMatchObject({ state: 'processing', attempt: 1, owner: `w${w}`, version: 2, leaseUntil: at(31_000) });
          }
        }),
      );
      expect(seen.size).toBe(40);
    });

    it('interleaves bots so a busy bot does not starve a newcomer', async () => {
      for (let i = 0; i < 10; i++) await t.store.mediaJobs.insert(job(`busy-${i}`, 'busy', 'image'), at(i));
      await t.store.mediaJobs.insert(job('newcomer-0', 'newcomer', 'image'), at(100));
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await t.store.mediaJobs.claim({ owner: 'w', leaseMs: 1000, now: at(200), kinds: ['image'] });
        if (c !== null) order.push(c.id);
      }
      expect(order.slice(0, 2)).toContain('newcomer-0');
    });

    it('fences transitions by version, so a claim in between makes a stale write fail', async () => {
      await t.store.mediaJobs.insert(job('fence', 'b1', 'document'), T0);
      const first = await t.store.mediaJobs.claim({ owner: 'a', leaseMs: 1000, now: at(1), kinds: ['document'] });
      expect(first).toMatchObject({ attempt: 1, version: 2 });
      const retried = await t.store.mediaJobs.compareAndSet('fence', 2, write({ attempt: 1, notBefore: at(5000), error: 'timeout' }), at(2));
      expect(retried).toMatchObject({ state: 'pending', version: 3, notBefore: at(5000) });
      expect(await t.store.mediaJobs.claim({ owner: 'b', leaseMs: 1000, now: at(3), kinds: ['document'] })).toBeNull();
      const second = await t.store.mediaJobs.claim({ owner: 'b', leaseMs: 1000, now: at(5000), kinds: ['document'] });
      expect(second).toMatchObject({ attempt: 2, version: 4 });
      expect(await t.store.mediaJobs.compareAndSet('fence', 3, write({ state: 'completed', statePath: 'completed' }), at(5001))).toBeNull();
      const done = await t.store.mediaJobs.compareAndSet('fence', 4, write({ state: 'completed', statePath: 'completed', attempt: 2 }), at(5002));
      expect(done).toMatchObject({ state: 'completed', version: 5, snapshot: { value: 'completed' }, owner: null });
    });

    it('lists by bot, state and expired lease, counts by state and deletes', async () => {
      await t.store.mediaJobs.insert(job('lease', 'lb', 'video'), T0);
      await t.store.mediaJobs.claim({ owner: 'a', leaseMs: 1000, now: at(1), kinds: ['video'] });
      expect((await t.store.mediaJobs.list({ states: ['processing'], leaseBefore: at(2000) })).map((j) => j.id)).toContain('lease');
      expect((await t.store.mediaJobs.list({ states: ['processing'], leaseBefore: at(500) })).map((j) => j.id)).not.toContain('lease');
      expect(await t.store.mediaJobs.countByState('lb')).toEqual({ processing: 1 });
      expect(await t.store.mediaJobs.countByState('b1')).toEqual({ completed: 1 });
      expect(await t.store.mediaJobs.delete('lease')).toBe(true);
      expect(await t.store.mediaJobs.get('lease')).toBeNull();
    });
  });

  describe('history', () => {
    const row = (seq: number, over: Partial<HistoryRecord> = {}): HistoryRecord => ({
      botId: 'hb', correspondentId: 'c1', seq, providerMessageId: `P${seq}`, direction: 'inbound', source: 'user',
      sender: 'c1', kind: 'text', content: `m${seq}`, status: 'final', mediaJobId: null, acceptedAt: at(seq), finalizedAt: null, ...over,
    });

    it('keeps arrival order and stores a replayed provider message once', async () => {
      expect(await t.store.history.append([row(1), row(2), row(3, { kind: 'voice', content: '', status: 'placeholder', mediaJobId: 'j3' })])).toEqual({ inserted: 3, duplicates: [], seqTaken: [] });
      const replay = await t.store.history.append([row(4, { providerMessageId: 'P2' }), row(5)]);
      expect(replay).toEqual({ inserted: 1, duplicates: [0], seqTaken: [] });
      expect((await t.store.history.list('hb', 'c1')).map((r) => r.seq)).toEqual([1, 2, 3, 5]);
    });

    it('tells a taken seq from a replay: a row on a seq another row holds is no replay and is not written', async () => {
      const other = (seq: number, providerMessageId: string) => row(seq, { correspondentId: 'c-taken', providerMessageId });
      await t.store.history.append([other(1, 'T1')]);
      const res = await t.store.history.append([other(1, 'T-new'), other(2, 'T1'), other(3, 'T3')]);
      expect(res).toEqual({ inserted: 1, duplicates: [1], seqTaken: [0] });
      expect((await t.store.history.list('hb', 'c-taken')).map((r) => [r.seq, r.providerMessageId])).toEqual([[1, 'T1'], [3, 'T3']]);
    });

    it('never collides on rows without a provider id', async () => {
      const res = await t.store.history.append([
        row(6, { providerMessageId: null, direction: 'outbound', source: 'bot' }),
        row(7, { providerMessageId: null, direction: 'outbound', source: 'bot' }),
      ]);
      expect(res.inserted).toBe(2);
    });

    it('finalizes a placeholder in place exactly once', async () => {
      expect(await t.store.history.finalize('hb', 'j3', '[Voice message] hello', 'final', at(50))).toBe(true);
      expect(await t.store.history.finalize('hb', 'j3', '[Voice message] again', 'final', at(51))).toBe(false);
      const rows = await t.store.history.list('hb', 'c1');
      expect(rows.filter((r) => r.mediaJobId === 'j3')).toEqual([expect.objectContaining({ seq: 3, content: '[Voice message] hello', status: 'final' })]);
    });

    it('reopens a finalized placeholder for a retry', async () => {
      expect(await t.store.history.reopen('hb', 'j3', '[Voice message] (processing)')).toBe(true);
      expect(await t.store.history.reopen('hb', 'j3', 'again')).toBe(false);
      expect(await t.store.history.finalize('hb', 'j3', '[Voice message] hello', 'final', at(52))).toBe(true);
    });

    it('pages backwards and reports the highest seq', async () => {
      expect((await t.store.history.list('hb', 'c1', { limit: 2, beforeSeq: 5 })).map((r) => r.seq)).toEqual([2, 3]);
      expect(await t.store.history.maxSeq('hb', 'c1')).toBe(7);
      expect(await t.store.history.maxSeq('hb', 'nobody')).toBe(0);
      expect(await t.store.history.findByProviderMessageId('hb', 'c1', 'P5')).toMatchObject({ seq: 5 });
      expect(await t.store.history.findByProviderMessageId('hb', 'c2', 'P5')).toBeNull();
    });
  });

  describe('bots', () => {
    it('creates, refuses duplicates, updates, lists and deletes', async () => {
      const created = await t.store.bots.create({ id: 'bot-a', provider: 'simulator', settings: { ai: { enabled: false } }, desiredState: 'stopped' }, T0);
      expect(created.createdAt).toEqual(T0);
      const dup = await t.store.bots.create({ id: 'bot-a', provider: 'simulator', settings: {}, desiredState: 'stopped' }, T0).catch((e: unknown) => e);
      expect(isParleyError(dup, 'STORE_DUPLICATE_KEY')).toBe(true);
      expect(await t.store.bots.update('bot-a', { desiredState: 'running' }, at(1))).toMatchObject({ desiredState: 'running', updatedAt: at(1) });
      expect(await t.store.bots.update('missing', { desiredState: 'running' }, at(1))).toBeNull();
      expect((await t.store.bots.list()).map((b) => b.id)).toEqual(['bot-a']);
      expect(await t.store.bots.delete('bot-a')).toBe(true);
      expect(await t.store.bots.get('bot-a')).toBeNull();
    });
  });

  describe('provider auth state', () => {
    it('stores keys one document each, deletes on null and clears a bot', async () => {
      const bytes = Buffer.from([1, 2, 3, 250]);
      await t.store.authState.set('ab', { creds: { me: { id: 'x' } }, 'pre-key': { '1': { key: bytes }, '2': { key: bytes } } });
      await Promise.all([
        t.store.authState.set('ab', { session: { s1: 'one' } }),
        t.store.authState.set('ab', { session: { s2: 'two' } }),
      ]);
      expect(await t.store.authState.get('ab', 'session', ['s1', 's2', 's3'])).toEqual({ s1: 'one', s2: 'two' });
      const keys = await t.store.authState.get('ab', 'pre-key', ['1']);
      const stored = (keys['1'] as { key: Binary }).key;
      expect(Buffer.from(stored.buffer)).toEqual(bytes);
      await t.store.authState.set('ab', { 'pre-key': { '1': null } });
      expect(Object.keys(await t.store.authState.get('ab', 'pre-key', ['1', '2']))).toEqual(['2']);
      expect(await t.store.authState.clear('ab')).toBe(4);
      expect(await t.db.collection(COLLECTIONS.authState).countDocuments({ botId: 'ab' })).toBe(0);
    });
  });
});
