import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import type { OutboxRecord, OutboxStore } from '../../../src/ports/outbox-store.port.ts';
import { createOutbox } from '../../../src/runtime/outbox/outbox.ts';
import type { OutboundHistory, OutboxBots } from '../../../src/runtime/outbox/outbox.ts';
import { eventually } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

/**
 * Several instances on one store, each sending through the sessions of the bots connected to it:
 * a message is claimed only where its bot is connected, and a message whose sender died goes out
 * once from wherever the bot connects next.
 */

const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
const X = 'bot-x';
const Y = 'bot-y';
const TO = '4915550311';
const LEASE_MS = 300;

const history: OutboundHistory = {
  record: (() => {
    let seq = 0;
    return async () => (seq += 1);
  })(),
  settle: async () => {},
};

/** One instance's provider sessions: what each bot sent from here. `gate` holds every send. */
function instanceBots(connected: Set<string>, gate?: Promise<void>) {
  const sent: { botId: string; text: string }[] = [];
  const bots: OutboxBots = {
    connectedSession: (botId) => (connected.has(botId)
      ? {
          async send(_to, text) {
            await gate;
            sent.push({ botId, text });
            return { providerMessageId: `wamid-${botId}-${sent.length}` };
          },
        }
      : undefined),
    connectedBotIds: () => [...connected],
  };
  return { bots, sent, connected };
}

const stores: TestStore[] = [];
const outboxes: ReturnType<typeof createOutbox>[] = [];
afterEach(async () => {
  for (const o of outboxes.splice(0)) o.halt();
  for (const t of stores.splice(0)) await t.dispose();
});

/** The store as one instance sees it, recording every row that instance claimed. */
function claimsOf(store: OutboxStore) {
  const claimed: OutboxRecord[] = [];
  const seen: OutboxStore = {
    ...store,
    async claim(request) {
      const row = await store.claim(request);
      if (row !== null) claimed.push(row);
      return row;
    },
  };
  return { store: seen, claimed };
}

function instance(store: OutboxStore, owner: string, bots: OutboxBots) {
  const outbox = createOutbox({ store, bots, history, owner, logger, leaseMs: LEASE_MS, pollMs: 20, retry: { baseMs: 20, maxMs: 40, jitter: 0 } });
  outboxes.push(outbox);
  return outbox;
}

const rowsOf = (t: TestStore, botId: string) => t.store.outbox.list({ botId });

describe('outboxes of several instances on one store', () => {
  it('claims a message only on the instance where its bot is connected, which sends it', async () => {
    const t = await openTestStore('parley_outbox_instances');
    stores.push(t);
    const onA = instanceBots(new Set([X]));
    const onB = instanceBots(new Set([Y]));
    const seenByB = claimsOf(t.store.outbox);
    const a = instance(t.store.outbox, 'instance-a', onA.bots);
    const b = instance(seenByB.store, 'instance-b', onB.bots);
    await Promise.all([a.start(), b.start()]);

    // B queues a message of X (an operator's call landed there): A, where X is connected, sends it.
    await b.send(X, TO, 'queued on b');
    await a.send(X, TO, 'queued on a');
    await b.send(Y, TO, 'for y');
    await eventually(() => rowsOf(t, X), (rows) => rows.length === 2 && rows.every((r) => r.state === 'sent'));
    await eventually(() => rowsOf(t, Y), (rows) => rows[0]?.state === 'sent');
    await new Promise((r) => setTimeout(r, 100));

    expect(onA.sent).toEqual([{ botId: X, text: 'queued on b' }, { botId: X, text: 'queued on a' }]);
    expect(onB.sent).toEqual([{ botId: Y, text: 'for y' }]);
    expect(seenByB.claimed.map((r) => r.botId)).toEqual([Y]);
    expect((await rowsOf(t, X)).map((r) => r.attempt)).toEqual([1, 1]);
  });

  it('sends once, from the instance the bot connects to next, a message whose sender died mid-send', async () => {
    const t = await openTestStore('parley_outbox_instances');
    stores.push(t);
    // A's sends never come back: A dies with the message claimed.
    const onA = instanceBots(new Set([X]), new Promise<void>(() => {}));
    const onB = instanceBots(new Set());
    const seenByB = claimsOf(t.store.outbox);
    const a = instance(t.store.outbox, 'instance-a', onA.bots);
    const b = instance(seenByB.store, 'instance-b', onB.bots);
    await Promise.all([a.start(), b.start()]);

    await a.send(X, TO, 'your order shipped');
    await eventually(() => rowsOf(t, X), (rows) => rows[0]?.state === 'sending');
    a.halt();
    // B sweeps the lapsed lease, but X is not connected there: the message waits, unclaimed.
    await eventually(() => rowsOf(t, X), (rows) => rows[0]?.state === 'pending', 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(seenByB.claimed).toEqual([]);
    expect((await rowsOf(t, X))[0]).toMatchObject({ state: 'pending', attempt: 1 });

    // X connects on B.
    onB.connected.add(X);
    await b.resume(X);
    await eventually(() => rowsOf(t, X), (rows) => rows[0]?.state === 'sent');
    await new Promise((r) => setTimeout(r, LEASE_MS + 100));
    expect(onB.sent).toEqual([{ botId: X, text: 'your order shipped' }]);
    expect(onA.sent).toEqual([]);
    expect(seenByB.claimed.map((r) => r.attempt)).toEqual([2]);
    expect((await rowsOf(t, X))[0]).toMatchObject({ state: 'sent', attempt: 2 });
  });
});
