import { afterEach, describe, expect, it } from 'vitest';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const CID = '4915550500';
const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.runtime.shutdown().catch(() => h.runtime.halt());
  for (const t of opened.splice(0)) await t.dispose();
});

async function setUp() {
  const t = await openTestStore('parley_seq');
  opened.push(t);
  const faulty = faultyStore(t.store);
  const h = await startRuntime(faulty.store);
  running.push(h);
  const bot = await connectedBot(h);
  return { t, faulty, h, bot };
}

const historyOf = async (t: TestStore, bot: string) => (await t.store.history.list(bot, CID)).map((r) => [r.seq, r.providerMessageId, r.status]);

describe('a conversation\'s seq survives a failed step (race i)', () => {
  it('accepts the next message after a media job insert failed once, and the replay of the voice note repairs its job', async () => {
    const { t, faulty, h, bot } = await setUp();
    const fault = faulty.failOnce('mediaJobs.insert');
    await expect(h.provider.media(bot, CID, 'voice', 'VOICE-1')).rejects.toThrow();
    expect(fault.fired).toBe(true);
    // Its row is durable, so the window holds its placeholder at once and its seq is spent.
    const queue = await h.runtime.conversations.queue(bot, CID);
    await eventually(() => queue.getSnapshot().context.window.messages.map((m) => m.providerMessageId), (ids) => ids.join() === 'VOICE-1');
    // The row was written and the seq taken: the next message gets the next seq, not a collision.
    await h.provider.text(bot, CID, 'are you there?', 'TEXT-2');
    await eventually(() => h.delivered.filter((d) => d.botId === bot).map((d) => d.content), (c) => c.includes('are you there?'));
    // The provider delivers the unacknowledged voice note again: a replay, which creates its job.
    await h.provider.media(bot, CID, 'voice', 'VOICE-1');
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (jobs) => jobs.length === 1 && jobs[0]?.state === 'delivered');
    expect(await historyOf(t, bot)).toEqual([[1, 'VOICE-1', 'final'], [2, 'TEXT-2', 'final']]);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => [m.id, m.mediaJobId])).toEqual([[1, null], [2, null]]);
  });

  it('takes a text whose history write landed but whose reply was lost, once, when the provider delivers it again', async () => {
    const { t, faulty, h, bot } = await setUp();
    faulty.landThenFail('history.append');
    await expect(h.provider.text(bot, CID, 'hello', 'TEXT-1')).rejects.toThrow();
    await h.provider.text(bot, CID, 'hello', 'TEXT-1');
    await h.provider.text(bot, CID, 'and more', 'TEXT-2');
    await eventually(() => h.delivered.filter((d) => d.botId === bot).length, (n) => n === 2);
    expect(await historyOf(t, bot)).toEqual([[1, 'TEXT-1', 'final'], [2, 'TEXT-2', 'final']]);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => m.content)).toEqual(['hello', 'and more']);
  });
});

describe('replays are keyed per chat', () => {
  it('stores two chats\' messages that carry the same provider id, and still drops a replay within one chat', async () => {
    const { t, h, bot } = await setUp();
    await h.provider.text(bot, CID, 'in the first chat', 'SAME-ID');
    await h.provider.text(bot, '4915550501', 'in the second chat', 'SAME-ID');
    await h.provider.text(bot, CID, 'in the first chat', 'SAME-ID');
    await eventually(() => h.delivered.filter((d) => d.botId === bot).length, (n) => n === 2);
    expect((await t.store.history.list(bot, CID)).map((r) => r.content)).toEqual(['in the first chat']);
    expect((await t.store.history.list(bot, '4915550501')).map((r) => r.content)).toEqual(['in the second chat']);
  });
});
