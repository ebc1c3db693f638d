import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/ports/store.port.ts';
import type { WebhookDeliveryRecord } from '../../../src/ports/webhook-store.port.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import { scriptedSender } from '../../support/webhook-receiver.ts';

const URL = 'https://receiver.example/hook';
const CID = '4915550300';
// Workers wake on new rows; a long poll keeps idle claims out of the counted writes.
const QUIET = { pollMs: 600_000, leaseMs: 1_000, retryDelaysMs: [20] };

type Source = 'message.received' | 'message.sent' | 'media.failed';
// Media that cannot be read: its job ends failed, with a note, and `media.failed` is published.
const UNREADABLE = async () => ({ status: 'unreadable' as const, reason: 'the file is corrupt' });

/** Makes the event happen: an inbound text, an outgoing message that is sent, a voice note that cannot be read. */
async function trigger(h: Harness, bot: string, source: Source): Promise<void> {
  if (source === 'message.received') await h.provider.text(bot, CID, 'hello hook', `WAMID-${source}`);
  else if (source === 'message.sent') await h.runtime.outbox.send(bot, CID, 'sent and told');
  else await h.provider.media(bot, CID, 'voice', `WAMID-${source}`);
}

async function deliveriesOf(store: Store, subscriptionId: string): Promise<WebhookDeliveryRecord[]> {
  return store.webhookDeliveries.list({ botId: subscriptionId });
}

/**
 * The process dies right before (or right after) one write of the webhook path; a second process
 * on the same store must still deliver the event, with one delivery row per (subscription, event)
 * and every request carrying that row's id.
 */
async function crashAt(source: Source, label: string, occurrence: number, after = false): Promise<void> {
  const t = await openTestStore('parley_webhook_crash');
  const crashing = crashingStore(t.store);
  const receiver = scriptedSender();
  const first = await startRuntime(crashing.store, { processor: UNREADABLE, webhooks: { sender: receiver.sender, ...QUIET } });
  const started: Harness[] = [first];
  try {
    const sub = await first.runtime.webhooks.subscribe({ url: URL, events: [source] });
    receiver.verifyWith(URL, sub.secret);
    const bot = await connectedBot(first);
    const at = crashing.occurrences(label) + occurrence;
    if (after) crashing.armAfter(label, at);
    else crashing.armBefore(label, at);
    await trigger(first, bot, source).catch(() => undefined);
    await eventually(async () => crashing.isDead() || (await deliveriesOf(t.store, sub.id))[0]?.state === 'delivered', Boolean);
    first.runtime.halt();
    expect(crashing.isDead(), `the process died ${after ? 'after' : 'before'} ${label} #${occurrence}`).toBe(true);

    // Ten seconds later: leases the dead process held have lapsed, signatures are still fresh for the verifier.
    const second = await startRuntime(t.store, { processor: UNREADABLE, webhooks: { sender: receiver.sender, ...QUIET, pollMs: 50 }, clock: () => Date.now() + 10_000 });
    started.push(second);
    // The event is delivered from what the first process made durable, whatever that was.
    const rows = await eventually(() => deliveriesOf(t.store, sub.id), (r) => r.length === 1 && r[0]?.state === 'delivered', 10_000);
    expect(rows.map((r) => r.eventType)).toEqual([source]);
    expect(receiver.received.length).toBeGreaterThanOrEqual(1);
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([rows[0]!.id]));
    expect(receiver.received.every((r) => r.verification === null)).toBe(true);
  } finally {
    for (const h of started) h.runtime.halt();
    await t.dispose();
  }
}

describe('a crash on the way from an event to its webhook delivery', () => {
  const points: [Source, string, number, boolean][] = [
    ['message.received', 'webhookDeliveries.insert', 1, false],
    ['message.received', 'webhookDeliveries.insert', 1, true],
    ['message.received', 'webhookDeliveries.claim', 1, false],
    ['message.received', 'webhookDeliveries.compareAndSet', 1, false],
    ['message.received', 'webhookDeliveries.compareAndSet', 2, false],
    ['message.sent', 'webhookDeliveries.insert', 1, false],
    ['message.sent', 'webhookDeliveries.insert', 1, true],
    ['media.failed', 'webhookDeliveries.insert', 1, false],
    ['media.failed', 'webhookDeliveries.insert', 1, true],
  ];
  it.each(points)('%s: dying %s #%i (after the write: %s) still delivers it once', async (source, label, occurrence, after) => {
    await crashAt(source, label, occurrence, after);
  }, 30_000);
});

describe('a crash between a bot\'s change of state and its webhook delivery', () => {
  it('announces the state the dead process decided, once, from the stored effect', async () => {
    const t = await openTestStore('parley_webhook_crash');
    const crashing = crashingStore(t.store);
    const receiver = scriptedSender();
    const first = await startRuntime(crashing.store, { webhooks: { sender: receiver.sender, ...QUIET } });
    const started: Harness[] = [first];
    try {
      const bot = await connectedBot(first);
      await first.runtime.bots.actor(bot).flush();
      const sub = await first.runtime.webhooks.subscribe({ url: URL, events: ['bot.state'] });
      receiver.verifyWith(URL, sub.secret);
      // `stopping` is decided and stored with its announcement; the process dies writing the delivery row.
      crashing.armBefore('webhookDeliveries.insert', crashing.occurrences('webhookDeliveries.insert') + 1);
      // Not awaited: the announcement waits for a store that will not answer again.
      void first.runtime.bots.stop(bot).catch(() => undefined);
      await eventually(() => crashing.isDead(), Boolean);
      first.runtime.halt();
      expect(await deliveriesOf(t.store, sub.id)).toEqual([]);

      const second = await startRuntime(t.store, { webhooks: { sender: receiver.sender, ...QUIET, pollMs: 50 }, clock: () => Date.now() + 10_000 });
      started.push(second);
      // The restored bot owes the announcement of `stopping`, then finishes stopping and announces that.
      const rows = await eventually(() => deliveriesOf(t.store, sub.id), (r) => r.length === 2 && r.every((d) => d.state === 'delivered'), 10_000);
      const states = receiver.received.map((r) => r.payload.data['state']);
      expect(states).toEqual(['stopping', 'stopped']);
      expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(rows.map((r) => r.id)));
    } finally {
      for (const h of started) h.runtime.halt();
      await t.dispose();
    }
  }, 30_000);
});

describe('one transient store failure on each webhook write', () => {
  const delivering = (args: readonly unknown[]) => (args[2] as { state?: string } | undefined)?.state === 'delivering';
  const delivered = (args: readonly unknown[]) => (args[2] as { state?: string } | undefined)?.state === 'delivered';
  const always = () => true;
  const faults: [Source, string, 'failOnce' | 'landThenFail', (args: readonly unknown[]) => boolean][] = [
    ['message.received', 'webhookDeliveries.insert', 'failOnce', always],
    ['message.received', 'webhookDeliveries.insert', 'landThenFail', always],
    ['message.sent', 'webhookDeliveries.insert', 'failOnce', always],
    ['message.sent', 'webhookDeliveries.insert', 'landThenFail', always],
    ['message.received', 'webhookDeliveries.claim', 'failOnce', always],
    ['message.received', 'webhookDeliveries.claim', 'landThenFail', always],
    ['message.received', 'webhookDeliveries.compareAndSet', 'failOnce', delivering],
    ['message.received', 'webhookDeliveries.compareAndSet', 'landThenFail', delivering],
    ['message.received', 'webhookDeliveries.compareAndSet', 'failOnce', delivered],
    ['message.received', 'webhookDeliveries.compareAndSet', 'landThenFail', delivered],
  ];
  it.each(faults)('%s, %s (%s): delivered once, one row, one request', async (source, label, kind, when) => {
    const t = await openTestStore('parley_webhook_faults');
    const faulty = faultyStore(t.store);
    const receiver = scriptedSender();
    const h = await startRuntime(faulty.store, { webhooks: { sender: receiver.sender, ...QUIET, pollMs: 50 } });
    try {
      const sub = await h.runtime.webhooks.subscribe({ url: URL, events: [source] });
      receiver.verifyWith(URL, sub.secret);
      const bot = await connectedBot(h);
      const fault = faulty[kind](label, when);
      await trigger(h, bot, source);
      const rows = await eventually(() => deliveriesOf(t.store, sub.id), (r) => r.length === 1 && r[0]?.state === 'delivered', 10_000);
      expect(fault.fired).toBe(true);
      expect(receiver.received.map((r) => r.id)).toEqual([rows[0]!.id]);
      expect(rows[0]!.effects).toEqual([]);
    } finally {
      await h.runtime.shutdown(200);
      await t.dispose();
    }
  }, 30_000);

  it.each([['failOnce'], ['landThenFail']] as const)('webhookSubscriptions.create (%s): one subscription or a refusal, never one without its caller', async (kind) => {
    const t = await openTestStore('parley_webhook_faults');
    const faulty = faultyStore(t.store);
    const h = await startRuntime(faulty.store, { webhooks: { sender: scriptedSender().sender, ...QUIET } });
    try {
      faulty[kind]('webhookSubscriptions.create');
      const outcome = await h.runtime.webhooks.subscribe({ url: URL, events: ['*'] }).then((s) => s.id, () => null);
      const stored = (await t.store.webhookSubscriptions.list()).map((s) => s.id);
      // Refused: nothing stored. Landed with its reply lost: recognized, and answered as created.
      expect(stored).toEqual(outcome === null ? [] : [outcome]);
      expect(outcome === null).toBe(kind === 'failOnce');
    } finally {
      await h.runtime.shutdown(200);
      await t.dispose();
    }
  });

  it.each([
    ['webhookSubscriptions.delete', 'failOnce'], ['webhookSubscriptions.delete', 'landThenFail'],
    ['webhookDeliveries.deleteByBot', 'failOnce'], ['webhookDeliveries.deleteByBot', 'landThenFail'],
  ] as const)('%s (%s): a removal asked again leaves neither the subscription nor its deliveries', async (label, kind) => {
    const t = await openTestStore('parley_webhook_faults');
    const faulty = faultyStore(t.store);
    const receiver = scriptedSender();
    const h = await startRuntime(faulty.store, { webhooks: { sender: receiver.sender, ...QUIET, retryDelaysMs: [60_000] } });
    try {
      const sub = await h.runtime.webhooks.subscribe({ url: URL, events: ['*'] });
      receiver.answer({ outcome: 'retry', status: 500, error: 'HTTP 500', retryAfterMs: null });
      await h.runtime.webhooks.publish({ id: 'e-1', type: 'bot.state', at: Date.now(), data: {} });
      await eventually(() => deliveriesOf(t.store, sub.id), (r) => r[0]?.attempt === 1 && r[0].state === 'pending');
      faulty[kind](label);
      const first = await h.runtime.webhooks.remove(sub.id).then(() => 'removed', () => 'error');
      if (first === 'error') await h.runtime.webhooks.remove(sub.id);
      expect(await t.store.webhookSubscriptions.get(sub.id)).toBeNull();
      expect(await deliveriesOf(t.store, sub.id)).toEqual([]);
    } finally {
      await h.runtime.shutdown(200);
      await t.dispose();
    }
  });
});
