import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import type { HistoryRecord } from '../../src/ports/history-store.port.ts';
import type { MediaJobWrite, NewMediaJob } from '../../src/ports/media-job-store.port.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const snapshot = (state: string) => ({ machineVersion: 1, state, snapshot: { value: state, context: {} } });
const job = (id: string, botId: string): NewMediaJob => ({
  id, botId, line: null, lineSeq: null, correspondentId: 'c1', messageId: 1, kind: 'voice', mimetype: 'audio/ogg', mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null, machineVersion: 1, snapshot: { value: 'pending' },
});
const row = (botId: string, correspondentId: string, seq: number): HistoryRecord => ({
  botId, correspondentId, seq, providerMessageId: `${botId}-${correspondentId}-P${seq}`, direction: 'inbound', source: 'user', sender: correspondentId,
  kind: 'text', content: `m${seq}`, status: 'final', mediaJobId: null, acceptedAt: at(seq), finalizedAt: null,
});

describe('deleting everything a bot owns, one repository at a time', () => {
  const t = useTestStore('parley_bot_deletion');

  it('removes the bot actor and every queue actor of the bot, and no actor of another bot', async () => {
    await t.store.actors.insert({ id: 'gone', kind: 'bot', botId: 'gone', ...snapshot('stopped') });
    await t.store.actors.insert({ id: 'gone|c1', kind: 'correspondent-queue', botId: 'gone', ...snapshot('active') });
    await t.store.actors.insert({ id: 'gone|c2', kind: 'correspondent-queue', botId: 'gone', ...snapshot('active') });
    await t.store.actors.insert({ id: 'kept', kind: 'bot', botId: 'kept', ...snapshot('stopped') });
    await t.store.actors.insert({ id: 'kept|c1', kind: 'correspondent-queue', botId: 'kept', ...snapshot('active') });

    expect(await t.store.actors.deleteByBot('gone')).toBe(3);
    expect(await t.store.actors.list({ kind: 'correspondent-queue', botId: 'gone' })).toEqual([]);
    expect(await t.store.actors.get('gone')).toBeNull();
    expect((await t.store.actors.list({ kind: 'correspondent-queue' })).map((a) => a.id)).toEqual(['kept|c1']);
    expect(await t.store.actors.deleteByBot('gone')).toBe(0);
  });

  it('removes media jobs of the bot in every state, and a worker reporting on one afterwards matches nothing', async () => {
    await t.store.mediaJobs.insert(job('gone-pending', 'gone'), T0);
    await t.store.mediaJobs.insert(job('gone-processing', 'gone'), at(1));
    await t.store.mediaJobs.insert(job('kept-pending', 'kept'), at(2));
    const claimed = await t.store.mediaJobs.claim({ owner: 'w', leaseMs: 60_000, now: at(3) });
    expect(claimed).toMatchObject({ id: 'gone-pending', state: 'processing' });

    expect(await t.store.mediaJobs.deleteByBot('gone')).toBe(2);
    const late: MediaJobWrite = {
      state: 'completed', statePath: 'completed', attempt: 1, owner: null, leaseUntil: null, notBefore: null, error: null, machineVersion: 1, snapshot: { value: 'completed' },
    };
    expect(await t.store.mediaJobs.compareAndSet('gone-pending', claimed!.version, late, at(4))).toBeNull();
    expect(await t.store.mediaJobs.get('gone-pending')).toBeNull();
    expect(await t.store.mediaJobs.countByState('gone')).toEqual({});
    expect((await t.store.mediaJobs.list({})).map((j) => j.id)).toEqual(['kept-pending']);
  });

  it('drops the bot\'s fair-queuing tag, so a bot created again under its id queues level with the others', async () => {
    for (let i = 0; i < 5; i++) await t.store.mediaJobs.insert(job(`busy-${i}`, 'busy'), at(10 + i));
    const busyTag = (await t.store.mediaJobs.get('busy-4'))!.fairSeq;
    expect(await t.db.collection(COLLECTIONS.counters).countDocuments({ _id: 'fair:busy' as never })).toBe(1);

    await t.store.mediaJobs.deleteByBot('busy');
    expect(await t.db.collection(COLLECTIONS.counters).countDocuments({ _id: 'fair:busy' as never })).toBe(0);
    await t.store.mediaJobs.insert(job('busy-again', 'busy'), at(20));
    expect((await t.store.mediaJobs.get('busy-again'))!.fairSeq).toBeLessThan(busyTag);
  });

  it('removes every history row of the bot across its conversations, and none of another bot', async () => {
    await t.store.history.append([row('gone', 'c1', 1), row('gone', 'c1', 2), row('gone', 'c2', 1), row('kept', 'c1', 1)]);
    expect(await t.store.history.deleteByBot('gone')).toBe(3);
    expect(await t.store.history.list('gone', 'c1')).toEqual([]);
    expect(await t.store.history.findByProviderMessageId('gone', 'c1', 'gone-c1-P1')).toBeNull();
    expect((await t.store.history.list('kept', 'c1')).map((r) => r.seq)).toEqual([1]);
    // The same provider ids may arrive again for a bot created under the same id.
    expect(await t.store.history.append([row('gone', 'c1', 1)])).toEqual({ inserted: 1, duplicates: [], seqTaken: [] });
  });

  it('removes outbox messages of the bot in every state, and a sender reporting on one afterwards matches nothing', async () => {
    const message = (id: string, botId: string, seq: number) => ({
      id, botId, kind: 'text', line: `${botId}|c1`, lineSeq: seq, correspondentId: 'c1', text: id, seq, machineVersion: 1, snapshot: { value: 'pending' },
    });
    await t.store.outbox.insert(message('gone-o1', 'gone', 1), T0);
    await t.store.outbox.insert(message('gone-o2', 'gone', 2), at(1));
    await t.store.outbox.insert(message('kept-o1', 'kept', 1), at(2));
    const sending = await t.store.outbox.claim({ owner: 'w', now: at(5), leaseMs: 60_000 });
    expect(sending?.id).toBe('gone-o1');

    expect(await t.store.outbox.deleteByBot('gone')).toBe(2);
    expect(await t.store.outbox.compareAndSet('gone-o1', sending!.version, { state: 'sent', statePath: 'sent', attempt: 1, owner: null, leaseUntil: null, notBefore: null, error: null, machineVersion: 1, snapshot: {} }, at(6))).toBeNull();
    expect(await t.store.outbox.list({ botId: 'gone' })).toEqual([]);
    expect((await t.store.outbox.list({ botId: 'kept' })).map((m) => m.id)).toEqual(['kept-o1']);
  });

  it('clears the bot\'s provider credentials and no other bot\'s', async () => {
    await t.store.authState.set('gone', { creds: { me: { id: 'x' } }, session: { s1: 'one' } });
    await t.store.authState.set('kept', { creds: { me: { id: 'y' } } });
    expect(await t.store.authState.clear('gone')).toBe(2);
    expect(await t.store.authState.get('gone', 'creds', ['me'])).toEqual({});
    expect(await t.store.authState.get('kept', 'creds', ['me'])).toEqual({ me: { id: 'y' } });
  });
});
