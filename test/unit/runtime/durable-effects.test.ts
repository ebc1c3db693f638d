import { afterEach, describe, expect, it } from 'vitest';
import type { ActorWrite } from '../../../src/ports/actor-snapshot-store.port.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import type { WorkItemWrite } from '../../../src/ports/work-queue.port.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const CID = '4915550400';
const isQueue = (args: readonly unknown[]) => String(args[0]).includes('|');
const writes = (state: string) => (args: readonly unknown[]) => (args[2] as WorkItemWrite).state === state;
const carries = (effect: string) => (args: readonly unknown[]) => ((args[2] as ActorWrite).effects ?? []).some((e) => e.type === effect);

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.runtime.shutdown().catch(() => h.runtime.halt());
  for (const t of opened.splice(0)) await t.dispose();
});

async function runtimeOn(store: Store, options: Parameters<typeof startRuntime>[1] = {}): Promise<Harness> {
  const h = await startRuntime(store, { outbox: { pollMs: 20, retry: { baseMs: 20, maxMs: 40, jitter: 0 } }, ...options });
  running.push(h);
  return h;
}

async function fresh(): Promise<TestStore> {
  const t = await openTestStore('parley_effects');
  opened.push(t);
  return t;
}

const settle = () => new Promise((r) => setTimeout(r, 150));

/** A runtime on a store whose calls can be made to fail once, with a connected bot. */
async function withFaults() {
  const t = await fresh();
  const faulty = faultyStore(t.store);
  const h = await runtimeOn(faulty.store);
  return { t, faulty, h, bot: await connectedBot(h) };
}

describe('one transient failure of an effect-bearing write (race i)', () => {
  it('queue: a text whose window write failed once is in the window and heard by listeners exactly once', async () => {
    const { t, faulty, h, bot } = await withFaults();
    const fault = faulty.failOnce('actors.compareAndSet', (args) => isQueue(args) && carries('notifyListeners')(args));
    await h.provider.text(bot, CID, 'hello');
    await eventually(() => h.delivered.filter((d) => d.botId === bot).length, (n) => n === 1);
    await settle();
    expect(fault.fired).toBe(true);
    expect(h.delivered.filter((d) => d.botId === bot).map((d) => d.content)).toEqual(['hello']);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => m.content)).toEqual(['hello']);
    expect((await t.store.history.list(bot, CID)).map((r) => r.content)).toEqual(['hello']);
  });

  it('bot: a start whose write failed once connects the provider exactly once', async () => {
    const t = await fresh();
    const faulty = faultyStore(t.store);
    const h = await runtimeOn(faulty.store);
    const fault = faulty.failOnce('actors.compareAndSet', (args) => args[0] === 'flaky-bot' && (args[2] as ActorWrite).state === 'starting');
    await connectedBot(h, 'flaky-bot');
    expect(fault.fired).toBe(true);
    expect(h.provider.starts('flaky-bot')).toBe(1);
  });

  it('media job: a result whose write failed once reaches its placeholder and listeners exactly once', async () => {
    const { t, faulty, h, bot } = await withFaults();
    const fault = faulty.failOnce('mediaJobs.compareAndSet', writes('completed'));
    await h.provider.media(bot, CID, 'voice');
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (jobs) => jobs[0]?.state === 'delivered');
    await settle();
    expect(fault.fired).toBe(true);
    expect(h.delivered.filter((d) => d.botId === bot).map((d) => d.content)).toEqual(['[Voice message] text of voice']);
    expect((await t.store.history.list(bot, CID)).map((r) => [r.status, r.content])).toEqual([['final', '[Voice message] text of voice']]);
  });

  it('media job: a result whose placeholder write failed once reaches listeners once, and the job is not failed', async () => {
    const { t, faulty, h, bot } = await withFaults();
    const fault = faulty.failOnce('history.finalize');
    await h.provider.media(bot, CID, 'voice');
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (jobs) => jobs[0]?.state === 'delivered');
    await settle();
    expect(fault.fired).toBe(true);
    expect(h.runtime.stats.lateResultsDiscarded).toBe(0);
    expect(h.delivered.filter((d) => d.botId === bot).map((d) => d.content)).toEqual(['[Voice message] text of voice']);
    expect((await t.store.history.list(bot, CID)).map((r) => r.status)).toEqual(['final']);
  });

  it('outbox: a sent report whose write failed once leaves one send, a sent message and a sent history row', async () => {
    const { t, faulty, h, bot } = await withFaults();
    const fault = faulty.failOnce('outbox.compareAndSet', writes('sent'));
    await h.runtime.outbox.send(bot, CID, 'your order shipped');
    await eventually(() => t.store.outbox.list({ botId: bot }), (rows) => rows[0]?.state === 'sent');
    await settle();
    expect(fault.fired).toBe(true);
    expect(h.provider.sent.filter((s) => s.botId === bot).map((s) => s.text)).toEqual(['your order shipped']);
    const rows = await eventually(() => t.store.history.list(bot, CID), (r) => r[0]?.status === 'sent');
    expect(rows.map((r) => [r.direction, r.source, r.status, r.content])).toEqual([['outbound', 'bot', 'sent', 'your order shipped']]);
    expect(rows[0]?.providerMessageId).toEqual(expect.any(String));
  });

  it('a write whose reply was lost but which landed is taken as written: the text is in the window once and heard once', async () => {
    const { faulty, h, bot } = await withFaults();
    const fault = faulty.landThenFail('actors.compareAndSet', (args) => isQueue(args) && carries('notifyListeners')(args));
    await h.provider.text(bot, CID, 'hello');
    await eventually(() => h.delivered.filter((d) => d.botId === bot).length, (n) => n >= 1);
    await settle();
    expect(fault.fired).toBe(true);
    expect(h.delivered.filter((d) => d.botId === bot).map((d) => d.content)).toEqual(['hello']);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => m.content)).toEqual(['hello']);
  });
});

describe('a crash between a durable write and its effect', () => {
  it('queue: listeners hear the text after restart, marked recovered', async () => {
    const t = await fresh();
    const crashing = crashingStore(t.store);
    const first = await runtimeOn(crashing.store);
    const bot = await connectedBot(first);
    await first.runtime.bots.actor(bot).flush();
    // The listener is slow; the process dies once the window write carrying the notification landed.
    first.runtime.listeners.add(() => new Promise((r) => setTimeout(r, 500)));
    crashing.armAfter('actors.compareAndSet', crashing.occurrences('actors.compareAndSet') + 1);
    await first.provider.text(bot, CID, 'hello');
    await eventually(() => crashing.isDead(), Boolean);
    first.runtime.halt();
    running.splice(running.indexOf(first), 1);
    const stored = await t.store.actors.get(`${bot}|${CID}`);
    expect(stored?.effects.map((e) => e.type)).toEqual(['notifyListeners']);

    const second = await runtimeOn(t.store);
    const heard = await eventually(() => second.delivered.filter((d) => d.botId === bot), (d) => d.length === 1);
    expect(heard[0]).toMatchObject({ content: 'hello', recovered: true });
    await second.runtime.conversations.flush();
    expect((await t.store.actors.get(`${bot}|${CID}`))?.effects).toEqual([]);
  });

  it('bot: a bot stopped just before the process died has its media jobs held after restart', async () => {
    const t = await fresh();
    const crashing = crashingStore(t.store);
    const gate = controlledProcessor();
    const first = await runtimeOn(crashing.store, { processor: gate.processor });
    const bot = await connectedBot(first);
    await first.provider.media(bot, CID, 'voice');
    await gate.next();
    await first.runtime.conversations.flush();
    await first.runtime.bots.actor(bot).flush();
    // The next actor write is the bot's `stopping`, which carries `holdMediaJobs`; the process dies once it landed.
    crashing.armAfter('actors.compareAndSet', crashing.occurrences('actors.compareAndSet') + 1);
    await first.runtime.bots.stop(bot).catch(() => undefined);
    await eventually(() => crashing.isDead(), Boolean);
    first.runtime.halt();
    running.splice(running.indexOf(first), 1);
    // Entering `stopping` also announces it (bot.state webhooks), stored with the same decision.
    expect((await t.store.actors.get(bot))?.effects.map((e) => e.type)).toEqual(['holdMediaJobs', 'announceState']);
    expect((await t.store.mediaJobs.list({ botId: bot }))[0]?.state).toBe('processing');

    const second = await runtimeOn(t.store, { processor: controlledProcessor().processor });
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (jobs) => jobs[0]?.state === 'holding');
    await eventually(() => second.runtime.bots.state(bot), (state) => state === 'stopped');
    await second.runtime.bots.actor(bot).flush();
    expect((await t.store.actors.get(bot))?.effects).toEqual([]);
  });

  it('outbox: the history row is marked sent after restart', async () => {
    const t = await fresh();
    const crashing = crashingStore(t.store);
    const first = await runtimeOn(crashing.store);
    const bot = await connectedBot(first);
    await first.runtime.bots.actor(bot).flush();
    const sentWrite = crashing.occurrences('outbox.compareAndSet') + 2;
    crashing.armAfter('outbox.compareAndSet', sentWrite);
    await first.runtime.outbox.send(bot, CID, 'your order shipped');
    await eventually(() => crashing.isDead(), Boolean);
    first.runtime.halt();
    running.splice(running.indexOf(first), 1);
    const [message] = await t.store.outbox.list({ botId: bot });
    expect(message).toMatchObject({ state: 'sent' });
    expect(message?.effects.map((e) => e.type)).toEqual(['recordSent']);

    await runtimeOn(t.store);
    const rows = await eventually(() => t.store.history.list(bot, CID), (r) => r[0]?.status === 'sent');
    expect(rows.map((r) => r.content)).toEqual(['your order shipped']);
    expect(first.provider.sent.filter((s) => s.botId === bot)).toHaveLength(1);
  });
});

describe('listeners off the acknowledgement path', () => {
  it('acknowledges the next message of a conversation without waiting for a slow listener', async () => {
    const t = await fresh();
    const h = await runtimeOn(t.store);
    const bot = await connectedBot(h);
    h.runtime.listeners.add(() => new Promise((r) => setTimeout(r, 1500)));
    await h.provider.text(bot, CID, 'first');
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await h.provider.text(bot, CID, 'second');
    expect(performance.now() - started).toBeLessThan(500);
    await eventually(() => h.delivered.filter((d) => d.botId === bot).length, (n) => n === 2, 5000);
  });
});
