import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import type { OutboxStore } from '../../../src/ports/outbox-store.port.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import { createOutbox } from '../../../src/runtime/outbox/outbox.ts';
import type { OutboundHistory, OutboxBots } from '../../../src/runtime/outbox/outbox.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { eventually } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
const FAST = { baseMs: 20, maxMs: 40, jitter: 0 };
const BOT = 'outbox-bot';
const TO = '4915550301';

/** History as the outbox sees it: seqs per conversation, and the outcomes it was told. */
function memoryHistory() {
  const seqs = new Map<string, number>();
  const settled: { seq: number; status: string }[] = [];
  const history: OutboundHistory = {
    async record(botId, to) {
      const next = (seqs.get(`${botId}|${to}`) ?? 0) + 1;
      seqs.set(`${botId}|${to}`, next);
      return next;
    },
    async settle(_botId, _to, seq, outcome) {
      settled.push({ seq, status: outcome.status });
    },
  };
  return { history, settled };
}

/** A provider session that records what it sent; `failures` sends fail first, `gate` holds sends. */
function session(options: { failures?: number; gate?: Promise<void> } = {}) {
  let failures = options.failures ?? 0;
  const sent: string[] = [];
  return {
    sent,
    async send(_to: string, text: string) {
      await options.gate;
      if (failures > 0) {
        failures -= 1;
        throw new Error('socket closed');
      }
      sent.push(text);
      return { providerMessageId: `wamid-${sent.length}` };
    },
  };
}

const connected = (s: ReturnType<typeof session> | undefined): OutboxBots => ({ connectedSession: () => s, connectedBotIds: () => (s === undefined ? [] : [BOT]) });

/** The bot connected here while `up()` says so. */
const connectedWhile = (up: () => boolean, s: ReturnType<typeof session>): OutboxBots => ({
  connectedSession: () => (up() ? s : undefined),
  connectedBotIds: () => (up() ? [BOT] : []),
});

const stores: TestStore[] = [];
const outboxes: ReturnType<typeof createOutbox>[] = [];
afterEach(async () => {
  for (const o of outboxes.splice(0)) o.halt();
  for (const t of stores.splice(0)) await t.dispose();
});

async function testStore(): Promise<TestStore> {
  const t = await openTestStore('parley_outbox');
  stores.push(t);
  return t;
}

function outboxOn(store: OutboxStore, bots: OutboxBots, owner = 'instance-a', leaseMs = 1000, history = memoryHistory().history) {
  const outbox = createOutbox({ store, bots, history, owner, logger, leaseMs, pollMs: 20, retry: FAST });
  outboxes.push(outbox);
  return outbox;
}

const states = async (store: Store) => (await store.outbox.list({ botId: BOT })).map((m) => [m.text, m.state]);

describe('outbox deliveries', () => {
  it('keeps a conversation in order across a retry: a message that failed once is not overtaken by the next', async () => {
    const t = await testStore();
    const s = session({ failures: 1 });
    const mem = memoryHistory();
    const outbox = outboxOn(t.store.outbox, connected(s), 'instance-a', 1000, mem.history);
    await outbox.start();
    await outbox.send(BOT, TO, 'one');
    await outbox.send(BOT, TO, 'two');
    await eventually(() => states(t.store), (rows) => rows.every(([, state]) => state === 'sent'));
    expect(s.sent).toEqual(['one', 'two']);
    // History is told after the sent state is stored, so it may trail the rows by a moment.
    await eventually(async () => mem.settled.length, (n) => n >= 2);
    expect(mem.settled).toEqual([{ seq: 1, status: 'sent' }, { seq: 2, status: 'sent' }]);
  });

  it('sends once and ends sent when storing the sent report fails for a while (an election)', async () => {
    const t = await testStore();
    // More failures than one transition's own retries: the sender retries the report, never the send.
    let failures = 6;
    const store: OutboxStore = {
      ...t.store.outbox,
      compareAndSet: async (...args) => {
        if (args[2].state === 'sent' && failures > 0) {
          failures -= 1;
          throw new Error('primary stepped down');
        }
        return t.store.outbox.compareAndSet(...args);
      },
    };
    const s = session();
    const outbox = outboxOn(store, connected(s));
    await outbox.start();
    await outbox.send(BOT, TO, 'only once');
    await eventually(() => states(t.store), (rows) => rows[0]?.[1] === 'sent', 8000);
    await new Promise((r) => setTimeout(r, 100));
    expect(failures).toBe(0);
    expect(s.sent).toEqual(['only once']);
    expect((await t.store.outbox.list({ botId: BOT }))[0]).toMatchObject({ state: 'sent', attempt: 1 });
  });

  it('holds messages while the bot is disconnected and sends them once it is back', async () => {
    const t = await testStore();
    const s = session();
    let up = false;
    const outbox = outboxOn(t.store.outbox, connectedWhile(() => up, s));
    await outbox.start();
    await outbox.send(BOT, TO, 'while away');
    expect(await states(t.store)).toEqual([['while away', 'holding']]);
    await new Promise((r) => setTimeout(r, 60));
    expect(s.sent).toEqual([]);
    up = true;
    await outbox.resume(BOT);
    await eventually(() => states(t.store), (rows) => rows[0]?.[1] === 'sent');
    expect(s.sent).toEqual(['while away']);
  });

  it('leaves at start the messages of a bot not connected yet untouched and claims none until it connects, so a restart costs them no attempt', async () => {
    const t = await testStore();
    const s = session();
    // Queued while connected, then the process went away before sending (its outbox never started).
    const first = outboxOn(t.store.outbox, connected(s));
    await first.send(BOT, TO, 'queued before the restart');
    first.halt();
    let up = false;
    const second = outboxOn(t.store.outbox, connectedWhile(() => up, s), 'instance-b');
    await second.start();
    await new Promise((r) => setTimeout(r, 60));
    // Another instance may be the one the bot connects to: the row waits as it was, unclaimed.
    expect(await t.store.outbox.list({ botId: BOT })).toMatchObject([{ state: 'pending', attempt: 0 }]);
    expect(s.sent).toEqual([]);
    up = true;
    await second.resume(BOT);
    await eventually(() => states(t.store), (rows) => rows[0]?.[1] === 'sent');
    expect(s.sent).toEqual(['queued before the restart']);
    const [row] = await t.store.outbox.list({ botId: BOT });
    expect(row?.attempt).toBe(1);
  });

  it('takes over a message whose sender stopped renewing its lease, and discards that sender\'s late report', async () => {
    const t = await testStore();
    let release = () => {};
    const slow = session({ gate: new Promise<void>((r) => (release = r)) });
    const fast = session();
    const leaseMs = 300;
    const a = outboxOn(t.store.outbox, connected(slow), 'instance-a', leaseMs);
    await a.start();
    await a.send(BOT, TO, 'one');
    await eventually(() => states(t.store), (rows) => rows[0]?.[1] === 'sending');
    // Instance a freezes mid-send: it renews nothing, but its send is still under way.
    a.halt();
    const b = outboxOn(t.store.outbox, connected(fast), 'instance-b', leaseMs);
    await b.start();
    await new Promise((r) => setTimeout(r, leaseMs / 4));
    expect(fast.sent).toEqual([]);
    const [taken] = await eventually(() => t.store.outbox.list({ botId: BOT }), (rows) => rows[0]?.state === 'sent', 5000);
    expect(taken).toMatchObject({ attempt: 2, owner: null });
    release();
    await eventually(() => slow.sent.length, (n) => n === 1);
    await new Promise((r) => setTimeout(r, 100));
    const [after] = await t.store.outbox.list({ botId: BOT });
    expect(after).toMatchObject({ state: 'sent', attempt: 2 });
    expect((after!.snapshot as { context: { discardedReports: number } }).context.discardedReports).toBe(1);
  });

  it('sends a message once after the process died between claiming it and sending it', async () => {
    const t = await testStore();
    const crashing = crashingStore(t.store);
    const dead = session();
    const dying = outboxOn(crashing.store.outbox, connected(dead), 'instance-a', 200);
    await dying.send(BOT, TO, 'your order shipped');
    crashing.armAfter('outbox.claim', crashing.occurrences('outbox.claim') + 1);
    await dying.start();
    await eventually(() => crashing.isDead(), Boolean);
    dying.halt();
    expect(dead.sent).toEqual([]);
    expect(await states(t.store)).toEqual([['your order shipped', 'sending']]);

    const alive = session();
    const restarted = outboxOn(t.store.outbox, connected(alive), 'instance-b', 200);
    await restarted.start();
    await eventually(() => states(t.store), (rows) => rows[0]?.[1] === 'sent');
    await new Promise((r) => setTimeout(r, 100));
    expect(alive.sent).toEqual(['your order shipped']);
  });
});
