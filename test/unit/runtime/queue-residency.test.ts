import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/ports/store.port.ts';
import { queueActorId } from '../../../src/runtime/conversations/conversations.ts';
import { DEFAULT_LIMITS } from '../../../src/runtime/parley-runtime.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { interceptStore } from '../../support/store-proxy.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const IDLE_MS = 60_000;
const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.runtime.shutdown().catch(() => h.runtime.halt());
  for (const t of opened.splice(0)) await t.dispose();
});

/** A runtime whose clock the test moves, so "idle for a minute" takes no time. */
async function start(store: Store, clock: { now: number }) {
  const h = await startRuntime(store, { clock: () => clock.now, queueIdleMs: IDLE_MS });
  running.push(h);
  return h;
}

async function setUp() {
  const t = await openTestStore('parley_residency');
  opened.push(t);
  const clock = { now: Date.now() };
  const h = await start(t.store, clock);
  const bot = await connectedBot(h);
  return { t, clock, h, bot };
}

const loadedIds = (h: Harness) => h.runtime.conversations.actors().map((q) => q.id).sort();
const contents = async (h: Harness, bot: string, cid: string) => (await h.runtime.conversations.queue(bot, cid)).getSnapshot().context.window.messages.map((m) => [m.id, m.content]);

describe('conversations in memory', () => {
  it('unloads a conversation untouched for the idle time, and its next message continues the same window', async () => {
    const { t, clock, h, bot } = await setUp();
    await h.provider.text(bot, 'alice', 'hi');
    await h.provider.text(bot, 'bob', 'hello');
    clock.now += IDLE_MS / 2;
    await h.provider.text(bot, 'bob', 'still here');
    clock.now += IDLE_MS / 2 + 1;

    expect(await h.runtime.conversations.unloadIdle()).toBe(1);
    expect(loadedIds(h)).toEqual([queueActorId(bot, 'bob')]);
    expect((await t.store.actors.get(queueActorId(bot, 'alice')))?.resident).not.toBe(true);
    expect((await t.store.actors.get(queueActorId(bot, 'bob')))?.resident).toBe(true);

    await h.provider.text(bot, 'alice', 'back again');
    expect(await contents(h, bot, 'alice')).toEqual([[1, 'hi'], [2, 'back again']]);
    await eventually(() => h.delivered.filter((d) => d.correspondentId === 'alice').map((d) => d.content), (c) => c.join() === 'hi,back again');
  });

  it('gives a conversation the limits its bot got while the conversation was not in memory', async () => {
    const t = await openTestStore('parley_residency');
    opened.push(t);
    const clock = { now: Date.now() };
    let maxMessages = 100;
    const h = await startRuntime(t.store, { clock: () => clock.now, queueIdleMs: IDLE_MS, limitsFor: () => ({ ...DEFAULT_LIMITS, maxMessages }) });
    running.push(h);
    const bot = await connectedBot(h);
    for (let i = 1; i <= 3; i++) await h.provider.text(bot, 'alice', `message ${i}`);
    clock.now += IDLE_MS + 1;
    expect(await h.runtime.conversations.unloadIdle()).toBe(1);
    maxMessages = 2;
    await h.provider.text(bot, 'alice', 'message 4');
    expect(await contents(h, bot, 'alice')).toEqual([[3, 'message 3'], [4, 'message 4']]);
  });

  it('restores after a crash only the conversations that were in memory, and loads the others with their windows when used', async () => {
    const { t, clock, h, bot } = await setUp();
    for (const cid of ['alice', 'bob', 'carol']) await h.provider.text(bot, cid, `hi from ${cid}`);
    clock.now += IDLE_MS + 1;
    await h.provider.text(bot, 'carol', 'carol again');
    expect(await h.runtime.conversations.unloadIdle()).toBe(2);
    await h.runtime.conversations.flush();
    h.runtime.halt();
    running.splice(running.indexOf(h), 1);

    const second = await start(t.store, clock);
    expect(loadedIds(second)).toEqual([queueActorId(bot, 'carol')]);
    expect(await contents(second, bot, 'alice')).toEqual([[1, 'hi from alice']]);
    expect(await contents(second, bot, 'carol')).toEqual([[1, 'hi from carol'], [2, 'carol again']]);
  });

  it('catches a restored conversation up by reading only the rows past its snapshot', async () => {
    const { t, h, bot } = await setUp();
    for (let i = 1; i <= 5; i++) await h.provider.text(bot, 'alice', `message ${i}`);
    await h.runtime.shutdown();
    running.splice(running.indexOf(h), 1);

    const reads: { label: string; args: unknown[] }[] = [];
    const spied = interceptStore(t.store, (label, args, call) => {
      if (label.startsWith('history.list')) reads.push({ label, args });
      return call();
    });
    const second = await start(spied, { now: Date.now() });
    expect(loadedIds(second)).toEqual([queueActorId(bot, 'alice')]);
    const catchUps = reads.filter((r) => r.label === 'history.list' || JSON.stringify(r.args[2]).includes(String(Number.MAX_SAFE_INTEGER)));
    expect(catchUps).toEqual([{ label: 'history.listBySeq', args: [bot, 'alice', [[6, Number.MAX_SAFE_INTEGER]]] }]);
  });

  it('connects a bot without reading the media jobs it already finished', async () => {
    const t = await openTestStore('parley_residency');
    opened.push(t);
    let listed: string[] | null = null;
    const spied = interceptStore(t.store, async (label, args, call) => {
      const result = await call();
      if (label === 'mediaJobs.list' && listed !== null && Array.isArray(result)) listed.push(...result.map((j: { statePath: string }) => j.statePath));
      return result;
    });
    const h = await startRuntime(spied, { worker: { pollMs: 50, leaseMs: 2_000, concurrency: 2, maxAttempts: 1 }, processor: async () => { throw new Error('unreadable'); } });
    running.push(h);
    const bot = await connectedBot(h);
    await h.provider.media(bot, 'alice', 'image');
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (jobs) => jobs[0]?.statePath === 'failed.notified');

    await h.runtime.bots.stop(bot);
    listed = [];
    await h.runtime.bots.start(bot);
    await eventually(() => h.runtime.bots.state(bot), (s) => s === 'connected');
    await h.runtime.bots.actor(bot).flush();
    expect(listed).toEqual([]);
  });

  it('keeps a media message past the placeholder ceiling as a note that it was not processed, creating no job', async () => {
    const t = await openTestStore('parley_residency');
    opened.push(t);
    const h = await startRuntime(t.store, { maxPendingMedia: 2, worker: { pollMs: 600_000, concurrency: 1 } });
    running.push(h);
    const bot = await connectedBot(h);
    h.runtime.mediaJobs.halt();
    for (let i = 0; i < 3; i++) await h.provider.media(bot, 'alice', 'image', `IMG-${i}`, `picture ${i}`);
    const rows = await t.store.history.list(bot, 'alice');
    expect(rows.map((r) => [r.status, r.kind])).toEqual([['placeholder', 'image'], ['placeholder', 'image'], ['final', 'image']]);
    expect(rows[2]?.content).toBe('[Image] (could not be processed: 2 earlier media messages of this conversation are still waiting to be processed)\nCaption: picture 2');
    expect(await t.store.mediaJobs.list({ botId: bot })).toHaveLength(2);
  });

  it('keeps at most the configured number of conversations in memory, unloading the least recently used first', async () => {
    const t = await openTestStore('parley_residency');
    opened.push(t);
    const h = await startRuntime(t.store, { maxResidentQueues: 3 });
    running.push(h);
    const bot = await connectedBot(h);
    for (const cid of ['a', 'b', 'c']) await h.provider.text(bot, cid, `hi from ${cid}`);
    await h.provider.text(bot, 'a', 'a again');
    await h.provider.text(bot, 'd', 'hi from d');
    await eventually(() => loadedIds(h), (ids) => ids.length === 3);
    expect(loadedIds(h)).toEqual([queueActorId(bot, 'a'), queueActorId(bot, 'c'), queueActorId(bot, 'd')]);
    expect((await t.store.actors.get(queueActorId(bot, 'b')))?.resident).not.toBe(true);
    expect(await contents(h, bot, 'b')).toEqual([[1, 'hi from b']]);
  });
});
