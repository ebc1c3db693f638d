import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../../src/adapters/mongodb/collections.ts';
import { emptyWindow } from '../../../src/domain/queue-message.ts';
import type { QueueLimits } from '../../../src/domain/queue-message.ts';
import { addText } from '../../../src/domain/queue-window.ts';
import { isParleyError } from '../../../src/domain/errors.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import { createConversations, queueActorId } from '../../../src/runtime/conversations/conversations.ts';
import type { Arrival } from '../../../src/runtime/conversations/conversations.ts';
import { createHistoryWriter } from '../../../src/runtime/conversations/history-writer.ts';
import { createInspectionHub } from '../../../src/runtime/actors/inspection-hub.ts';
import { createListenerRegistry } from '../../../src/runtime/conversations/listener-registry.ts';
import type { DeliveredMessage } from '../../../src/runtime/conversations/listener-registry.ts';
import { queueSummaries, queueWindow } from '../../../src/control-plane/queue-summaries.ts';
import { eventually } from '../../support/runtime-harness.ts';
import { useTestStore } from '../../support/test-store.ts';

const LIMITS: QueueLimits = { maxMessages: 100, maxCharacters: 20_000, maxAgeDays: 7, maxCharactersPerMessage: 4_000 };
const T0 = Date.UTC(2026, 0, 1);

/** One process's conversations on `store`; `lines` collects what it logged. */
function process(store: Store, options: { listenerDelayMs?: number } = {}) {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const heard: DeliveredMessage[] = [];
  const listeners = createListenerRegistry(() => undefined);
  listeners.add(async (m) => {
    if (options.listenerDelayMs !== undefined) await new Promise((r) => setTimeout(r, options.listenerDelayMs));
    heard.push(m);
  });
  let now = T0;
  const conversations = createConversations({
    store, history: createHistoryWriter({ history: store.history }), listeners, inspection: createInspectionHub(),
    stats: { writes: 0, conflicts: 0, failedWrites: 0, duplicates: 0 }, logger, clock: () => (now += 1000), limitsFor: () => LIMITS,
    placeholderJobs: { create: async () => undefined },
    staging: { stage: async () => ({ status: 'failed', reason: 'not staged in this test' }), release: async () => undefined },
  });
  return { conversations, heard, lines };
}

const arrival = (botId: string, correspondentId: string, n: number): Arrival => ({
  botId, correspondentId, providerMessageId: `wa-${n}`, sender: { id: `${correspondentId}@s.whatsapp.net`, displayName: 'Ada' }, group: 'team', originatingAt: T0 - n,
});

describe('the stored correspondent queue', () => {
  const t = useTestStore('parley_queue_codec');
  const storedDoc = (botId: string, cid: string) => t.db.collection(COLLECTIONS.actors).findOne({ _id: queueActorId(botId, cid) as never });

  it('keeps a queue of 100 texts of 200 characters under 1 KB and restores the very same window from history', async () => {
    const first = process(t.store);
    for (let n = 1; n <= 100; n++) await first.conversations.ingestText(arrival('small', 'c1', n), `${n} `.padEnd(200, 'x'));
    await first.conversations.flush();
    const live = (await first.conversations.queue('small', 'c1')).getSnapshot().context.window;
    expect(live.messages).toHaveLength(100);
    const doc = await storedDoc('small', 'c1');
    expect(doc?.['machineVersion']).toBe(2);
    expect(doc?.['effects']).toEqual([]);
    expect(BSON.calculateObjectSize(doc?.['snapshot'] as object)).toBeLessThan(1024);
    first.conversations.halt();

    const second = process(t.store);
    await second.conversations.restoreAll();
    expect((await second.conversations.queue('small', 'c1')).getSnapshot().context.window).toEqual(live);
    // A process that has not loaded the queue reads its window and counts from the store.
    const reader = { store: t.store.actors, history: t.store.history, loaded: () => [] };
    expect(await queueWindow(reader, 'small', 'c1')).toEqual(live.messages);
    expect(await queueSummaries(reader, 'small')).toEqual([
      { botId: 'small', correspondentId: 'c1', messages: 100, characters: 20_000, placeholders: 0, lastAcceptedAt: live.messages.at(-1)?.acceptedAt },
    ]);
  });

  it('counts placeholders of a queue not loaded from the stored form, and rebuilds them with their text', async () => {
    const p = process(t.store);
    const voice = { kind: 'voice' as const, mimetype: 'audio/ogg', caption: 'listen', fileName: null };
    await p.conversations.ingestText(arrival('media', 'c1', 1), 'before the voice note');
    await p.conversations.ingestMedia(arrival('media', 'c1', 2), voice, 'job-1');
    await p.conversations.flush();
    const live = (await p.conversations.queue('media', 'c1')).getSnapshot().context.window;
    const reader = { store: t.store.actors, history: t.store.history, loaded: () => [] };
    expect(await queueSummaries(reader, 'media')).toMatchObject([{ messages: 2, placeholders: 1, characters: live.totalChars }]);
    expect(await queueWindow(reader, 'media', 'c1')).toEqual(live.messages);
    expect(live.messages[1]).toMatchObject({ mediaJobId: 'job-1', content: '[Voice message] (processing)\nCaption: listen' });
  });

  it('stores a notification as its message id and size until acknowledged, and rebuilds it from history after a crash', async () => {
    const first = process(t.store, { listenerDelayMs: 200 });
    await first.conversations.ingestText(arrival('notify', 'c1', 1), 'hello there');
    const pending = await eventually(() => storedDoc('notify', 'c1'), (doc) => (doc?.['effects'] as unknown[] | undefined)?.length === 1);
    const [effect] = pending?.['effects'] as { type: string; params: unknown }[];
    expect(effect).toMatchObject({ type: 'notifyListeners', params: { botId: 'notify', correspondentId: 'c1', messageId: 1, size: 11 } });
    first.conversations.halt();

    const second = process(t.store);
    await second.conversations.restoreAll();
    await eventually(() => second.heard.length, (n) => n === 1);
    expect(second.heard[0]).toMatchObject({ messageId: 1, content: 'hello there', source: 'user', mediaJobId: null, recovered: true });
  });

  it('restores a queue stored whole by machine version 1 and stores it slim from its next write', async () => {
    const window = addText(emptyWindow(), LIMITS, { ...arrival('v1', 'c1', 1), content: 'stored whole', source: 'user' }, T0).window;
    const context = { botId: 'v1', correspondentId: 'c1', limits: LIMITS, window };
    await t.store.actors.insert({ id: queueActorId('v1', 'c1'), kind: 'correspondent-queue', botId: 'v1', machineVersion: 1, state: 'active', snapshot: { status: 'active', value: 'active', context } });
    const p = process(t.store);
    await p.conversations.restoreAll();
    expect((await p.conversations.queue('v1', 'c1')).getSnapshot().context.window).toEqual(window);
    expect(p.lines.some((l) => l.msg.includes('machine version 1'))).toBe(true);

    await p.conversations.ingestText(arrival('v1', 'c1', 2), 'and a new one');
    await p.conversations.flush();
    const doc = await storedDoc('v1', 'c1');
    expect(doc?.['machineVersion']).toBe(2);
    expect(doc?.['snapshot']).toMatchObject({ context: { window: { members: [[1, 2]], nextId: 3 } } });
  });

  it('refuses a snapshot of a machine version it has no migration for', async () => {
    await t.store.actors.insert({ id: queueActorId('v9', 'c1'), kind: 'correspondent-queue', botId: 'v9', machineVersion: 9, state: 'active', snapshot: {} });
    const refused = await process(t.store).conversations.queue('v9', 'c1').catch((err: unknown) => err);
    expect(isParleyError(refused, 'INCOMPATIBLE_SNAPSHOT')).toBe(true);
    expect((refused as Error).message).toMatch(/machine version 9; this build runs version 2 and has no migration/);
    await t.store.actors.delete(queueActorId('v9', 'c1'));
  });

  it('rebuilds a window without a message whose history row is gone, and says so', async () => {
    const first = process(t.store);
    for (let n = 1; n <= 3; n++) await first.conversations.ingestText(arrival('gone', 'c1', n), `text ${n}`);
    await first.conversations.flush();
    first.conversations.halt();
    await t.db.collection(COLLECTIONS.messages).deleteOne({ botId: 'gone', seq: 2 });

    const second = process(t.store);
    await second.conversations.restoreAll();
    const window = (await second.conversations.queue('gone', 'c1')).getSnapshot().context.window;
    expect(window.messages.map((m) => [m.id, m.content])).toEqual([[1, 'text 1'], [3, 'text 3']]);
    expect(window.totalChars).toBe(12);
    expect(second.lines.find((l) => l.msg.includes('missing from history'))).toMatchObject({ missing: [2] });
  });
});
