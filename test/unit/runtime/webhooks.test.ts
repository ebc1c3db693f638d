import { afterEach, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../../src/adapters/mongodb/collections.ts';
import { isParleyError } from '../../../src/domain/errors.ts';
import type { WebhookEvent } from '../../../src/domain/webhook-events.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import type { WebhookDeliveryRecord } from '../../../src/ports/webhook-store.port.ts';
import type { WebhookSetup } from '../../../src/runtime/parley-runtime.ts';
import { deliveryIdOf } from '../../../src/runtime/webhooks/webhook-signer.ts';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { useTestStore } from '../../support/test-store.ts';
import { scriptedSender } from '../../support/webhook-receiver.ts';

const URL_A = 'https://a.example/hook';
const URL_B = 'https://b.example/hook';
const event = (id: string, type: WebhookEvent['type'] = 'message.received'): WebhookEvent => ({ id, type, at: Date.UTC(2026, 0, 1), data: { n: id } });

describe('event webhooks', () => {
  const t = useTestStore('parley_webhooks');
  const running: Harness[] = [];
  afterEach(async () => {
    for (const h of running.splice(0)) await h.runtime.shutdown(200);
    // Each test subscribes afresh: one test's subscriptions would take the next one's events.
    for (const sub of await t.store.webhookSubscriptions.list()) {
      await t.store.webhookSubscriptions.delete(sub.id);
      await t.store.webhookDeliveries.deleteByBot(sub.id);
    }
  });

  async function start(store: Store = t.store, webhooks: WebhookSetup = {}) {
    const receiver = scriptedSender();
    const h = await startRuntime(store, { webhooks: { sender: receiver.sender, retryDelaysMs: [20, 20], pollMs: 20, ...webhooks } });
    running.push(h);
    const subscribe = async (url: string, events: string[]) => {
      const sub = await h.runtime.webhooks.subscribe({ url, events });
      receiver.verifyWith(url, sub.secret);
      return sub;
    };
    return { h, webhooks: h.runtime.webhooks, receiver, subscribe };
  }
  const rows = (subscriptionId: string) => t.store.webhookDeliveries.list({ botId: subscriptionId });
  const settled = (subscriptionId: string, count = 1) =>
    eventually(() => rows(subscriptionId), (r) => r.length === count && r.every((d) => d.state === 'delivered' || d.state === 'failed'));

  it('stores each event once per subscription that wants it, however often it is published', async () => {
    const { webhooks, subscribe, receiver } = await start();
    const a = await subscribe(URL_A, ['message.received']);
    const all = await subscribe(URL_B, ['*']);
    const other = await subscribe('https://c.example/', ['bot.state']);
    const e = event('twice');
    await Promise.all([webhooks.publish(e), webhooks.publish(e)]);
    await webhooks.publish(e);
    for (const sub of [a, all]) expect((await settled(sub.id)).map((d) => [d.id, d.eventId, d.state])).toEqual([[deliveryIdOf(sub.id, e.id), e.id, 'delivered']]);
    expect(await rows(other.id)).toEqual([]);
    expect(receiver.received.map((r) => r.verification)).toEqual([null, null]);
    expect(receiver.received.map((r) => r.payload)).toEqual([JSON.parse('{"type":"message.received","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":"twice"}}'), expect.anything()]);
  });

  it('reads and writes nothing to publish an event nobody subscribed to', async () => {
    const faulty = faultyStore(t.store);
    const { webhooks } = await start(faulty.store);
    await webhooks.publish(event('warm-up', 'media.failed'));
    const before = faulty.calls.length;
    for (let i = 0; i < 20; i++) await webhooks.publish(event(`nobody-${i}`, 'media.failed'));
    expect(faulty.calls.slice(before).filter((c) => c.startsWith('webhook'))).toEqual([]);
  });

  it('retries a network error on the schedule and a 429 at its Retry-After, the same id and body each time, then delivers', async () => {
    // The schedule's second delay is a minute: only the receiver's Retry-After makes the third attempt come soon.
    const { webhooks, subscribe, receiver } = await start(t.store, { retryDelaysMs: [20, 60_000, 60_000] });
    const sub = await subscribe(URL_A, ['*']);
    receiver.answer({ outcome: 'retry', status: null, error: 'connect ECONNREFUSED', retryAfterMs: null }, { outcome: 'retry', status: 429, error: 'HTTP 429', retryAfterMs: 30 });
    await webhooks.publish(event('flaky'));
    const [delivery] = await settled(sub.id);
    expect(delivery).toMatchObject({ state: 'delivered', attempt: 3, error: null });
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([delivery!.id]));
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(receiver.received.every((r) => r.verification === null)).toBe(true);
    expect(webhooks.stats).toMatchObject({ delivered: 1, retried: 2 });
  });

  it('dead-letters after its last retry, then delivers after an operator retry with a fresh budget', async () => {
    const { webhooks, subscribe, receiver } = await start(t.store, { retryDelaysMs: [10] });
    const sub = await subscribe(URL_A, ['*']);
    const down = { outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: null } as const;
    receiver.answer(down, down);
    await webhooks.publish(event('dead'));
    const [failed] = await settled(sub.id);
    expect(failed).toMatchObject({ state: 'failed', attempt: 2, error: 'HTTP 503' });
    const refused = await webhooks.retry('wh_other', failed!.id).catch((err: unknown) => err);
    expect(isParleyError(refused, 'NOT_FOUND')).toBe(true);
    expect((await webhooks.retry(sub.id, failed!.id)).state).toBe('pending');
    const [delivered] = await eventually(() => rows(sub.id), (r) => r[0]?.state === 'delivered');
    expect(delivered).toMatchObject({ attempt: 3, id: failed!.id });
    const again = await webhooks.retry(sub.id, failed!.id).catch((err: unknown) => err);
    expect(isParleyError(again, 'DELIVERY_NOT_RETRYABLE')).toBe(true);
    expect(receiver.received).toHaveLength(3);
  });

  it('fails at once, without retrying, when no attempt can help (another 4xx, a redirect)', async () => {
    const { webhooks, subscribe, receiver } = await start();
    const sub = await subscribe(URL_A, ['*']);
    receiver.answer({ outcome: 'fail', status: 410, error: 'HTTP 410' });
    await webhooks.publish(event('gone'));
    expect(await settled(sub.id)).toMatchObject([{ state: 'failed', attempt: 1, error: 'HTTP 410' }]);
    expect(webhooks.stats.failed).toBe(1);
  });

  it('deletes a subscription with its deliveries, pending ones included, and sends nothing more', async () => {
    const { webhooks, subscribe, receiver } = await start(t.store, { retryDelaysMs: [60_000] });
    const sub = await subscribe(URL_A, ['*']);
    receiver.answer({ outcome: 'retry', status: 500, error: 'HTTP 500', retryAfterMs: null });
    await webhooks.publish(event('left-behind'));
    await eventually(() => rows(sub.id), (r) => r[0]?.state === 'pending' && r[0].attempt === 1);
    expect(await webhooks.remove(sub.id)).toBe(true);
    expect(await rows(sub.id)).toEqual([]);
    expect(await webhooks.remove(sub.id)).toBe(false);
    await webhooks.publish(event('after'));
    expect(await rows(sub.id)).toEqual([]);
    expect(receiver.received).toHaveLength(1);
  });

  it('drops a delivery whose subscription another instance removed, without sending it', async () => {
    const { webhooks, subscribe, receiver } = await start(t.store, { pollMs: 600_000 });
    const sub = await subscribe(URL_A, ['*']);
    // The other instance's removal: this one's cache still holds the subscription.
    await t.store.webhookSubscriptions.delete(sub.id);
    await webhooks.publish(event('stale-cache'));
    await eventually(() => rows(sub.id), (r: WebhookDeliveryRecord[]) => r.length === 0);
    expect(receiver.received).toEqual([]);
  });

  it('fails a delivery for good, saying why, when no configured key opens its subscription\'s secret', async () => {
    const { webhooks, subscribe, receiver } = await start();
    const sub = await subscribe(URL_A, ['*']);
    const other = await subscribe(URL_B, ['bot.state']);
    // A secret sealed for another subscription does not open for this one.
    const subscriptions = t.db.collection<{ _id: string; sealed: unknown }>(COLLECTIONS.webhookSubscriptions);
    const sealed = (await subscriptions.findOne({ _id: other.id }))?.sealed;
    await subscriptions.updateOne({ _id: sub.id }, { $set: { sealed } });
    await webhooks.publish(event('unsigned'));
    expect(await settled(sub.id)).toMatchObject([{ state: 'failed', attempt: 1, error: expect.stringContaining('cannot be decrypted') }]);
    expect(receiver.received).toEqual([]);
  });

  it('refuses a subscription with a bad URL, event or secret, naming the field', async () => {
    const { webhooks } = await start();
    const field = async (request: Parameters<typeof webhooks.subscribe>[0]) =>
      webhooks.subscribe(request).then(() => null, (err: unknown) => (isParleyError(err, 'VALIDATION_FAILED') ? err.details?.['field'] : err));
    expect(await field({ url: 'ftp://x.example/', events: ['*'] })).toBe('url');
    expect(await field({ url: 'https://u:p@x.example/', events: ['*'] })).toBe('url');
    expect(await field({ url: URL_A, events: ['message.edited'] })).toBe('events');
    expect(await field({ url: URL_A, events: [] })).toBe('events');
    expect(await field({ url: URL_A, events: ['*'], secret: 'whsec_c2hvcnQ=' })).toBe('secret');
    expect(await field({ url: URL_A, events: ['*'], secret: `whsec_${Buffer.alloc(24).toString('base64')}` })).toBeNull();
  });

  it('publishes what the bot, the conversation, the outbox and media jobs do', async () => {
    const processor = async () => ({ status: 'unreadable' as const, reason: 'the file is corrupt' });
    const receiver = scriptedSender();
    const h = await startRuntime(t.store, { processor, webhooks: { sender: receiver.sender, pollMs: 20 } });
    running.push(h);
    const sub = await h.runtime.webhooks.subscribe({ url: URL_A, events: ['*'] });
    receiver.verifyWith(URL_A, sub.secret);
    const bot = await connectedBot(h);
    await h.provider.text(bot, 'c-1', 'hello');
    await h.runtime.outbox.send(bot, 'c-1', 'hi back');
    await h.provider.media(bot, 'c-2', 'voice');
    const types = ['bot.state', 'message.received', 'message.sent', 'media.failed'];
    await eventually(() => receiver.received.map((r) => r.payload.type), (seen) => types.every((type) => seen.includes(type)) && seen.filter((s) => s === 'bot.state').length >= 2);
    const data = (type: string) => receiver.received.filter((r) => r.payload.type === type).map((r) => r.payload.data);
    expect(data('bot.state').slice(0, 2)).toEqual([{ botId: bot, state: 'starting', reason: null }, { botId: bot, state: 'connected', reason: null }]);
    // The voice note reaches listeners too, once its placeholder is finalized with the failure note.
    expect(data('message.received')).toEqual(expect.arrayContaining([
      { botId: bot, correspondentId: 'c-1', messageId: 1, content: 'hello', source: expect.any(String), mediaJobId: null },
      { botId: bot, correspondentId: 'c-2', messageId: 1, content: expect.stringContaining('the file is corrupt'), source: expect.any(String), mediaJobId: null },
    ]));
    expect(data('message.received')).toHaveLength(2);
    expect(data('message.sent')).toEqual([{ botId: bot, correspondentId: 'c-1', messageId: 2, outboxId: expect.any(String), text: 'hi back', providerMessageId: expect.any(String) }]);
    expect(data('media.failed')).toEqual([{ botId: bot, correspondentId: 'c-2', messageId: 1, mediaJobId: expect.any(String), kind: 'voice', error: 'the file is corrupt' }]);
    expect(receiver.received.every((r) => r.verification === null)).toBe(true);
    // Every event went out once: no id was delivered twice.
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(receiver.received.length);
  });
});
