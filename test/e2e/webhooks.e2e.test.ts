import type { LookupAddress } from 'node:dns';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashingStore } from '../support/crashing-store.ts';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { startReceiver } from '../support/webhook-receiver.ts';
import type { Receiver } from '../support/webhook-receiver.ts';
import { runningBot, startApi, useApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface Created { id: string; url: string; events: string[]; secret: string; createdAt: string }
interface Delivery { id: string; eventId: string; type: string; state: string; attempt: number; error: string | null; nextAttemptAt: string | null }
interface ErrorJson { error: { code: string; message: string } }

async function subscribe(api: Api, receiver: Receiver, url: string, events: string[] = ['message.received']): Promise<Created> {
  const res = await api.request('POST', '/v1/webhooks', { url, events });
  expect(res.statusCode, res.body).toBe(201);
  const created = res.json<Created>();
  receiver.verifyWith(created.secret);
  return created;
}

const deliveries = async (api: Api, id: string, query = ''): Promise<Delivery[]> =>
  (await api.request('GET', `/v1/webhooks/${id}/deliveries${query}`)).json<{ deliveries: Delivery[] }>().deliveries;
const settled = (api: Api, id: string, state: string) => eventually(() => deliveries(api, id), (d) => d.length === 1 && d[0]!.state === state, 10_000);
const inbound = (api: Api, bot: string, text: string) => api.request('POST', `/v1/bots/${bot}/simulator/inbound`, { from: '4915550400', text });
const codeOf = (res: LightMyRequestResponse) => res.json<ErrorJson>().error.code;

describe('event webhooks over HTTP', () => {
  const context = useApi('parley_webhooks_e2e', { runningBots: ['hooked'] });
  const receivers: Receiver[] = [];
  const receiver = async (port?: number) => {
    const r = await startReceiver(port);
    receivers.push(r);
    return r;
  };
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });
  // Each test subscribes afresh; earlier subscriptions would receive its events too.
  const clean = async () => {
    for (const { id } of (await context.api.request('GET', '/v1/webhooks')).json<{ webhooks: { id: string }[] }>().webhooks) {
      await context.api.request('DELETE', `/v1/webhooks/${id}`);
    }
  };

  it('creates a subscription whose secret is shown once, and delivers every event signed and verifiable', async () => {
    await clean();
    const api = context.api;
    const r = await receiver();
    const created = await subscribe(api, r, r.url('/events?token=abc'));
    expect(created).toMatchObject({ id: expect.stringMatching(/^wh_/), url: r.url('/events?token=abc'), events: ['message.received'], secret: expect.stringMatching(/^whsec_/) });
    const listed = (await api.request('GET', '/v1/webhooks')).json<{ webhooks: Record<string, unknown>[] }>().webhooks;
    expect(listed).toEqual([{ id: created.id, url: created.url, events: created.events, createdAt: created.createdAt }]);
    expect((await api.request('GET', `/v1/webhooks/${created.id}`)).json()).toEqual(listed[0]);
    expect(JSON.stringify(listed)).not.toContain('whsec_');

    await inbound(api, 'hooked', 'hello webhooks');
    await settled(api, created.id, 'delivered');
    expect(r.received).toHaveLength(1);
    expect(r.received[0]!.verification).toBeNull();
    expect(r.received[0]!.payload).toMatchObject({ type: 'message.received', data: { botId: 'hooked', correspondentId: '4915550400', content: 'hello webhooks', mediaJobId: null } });
  });

  it('retries a receiver answering 500 twice with the same webhook-id, and ends delivered', async () => {
    await clean();
    const api = context.api;
    const r = await receiver();
    const sub = await subscribe(api, r, r.url());
    r.answer({ status: 500 }, { status: 500 });
    await inbound(api, 'hooked', 'third time lucky');
    const [delivery] = await settled(api, sub.id, 'delivered');
    expect(delivery).toMatchObject({ attempt: 3, error: null, type: 'message.received', nextAttemptAt: null });
    expect(r.received.map((x) => x.id)).toEqual([delivery!.id, delivery!.id, delivery!.id]);
    expect(r.received.every((x) => x.verification === null)).toBe(true);
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
  });

  it('dead-letters deliveries to a dead receiver; a retry delivers once it is up', async () => {
    await clean();
    const api = context.api;
    const gone = await startReceiver();
    const port = gone.port;
    await gone.close();
    const sub = await subscribe(api, gone, `http://127.0.0.1:${port}/hook`);
    await inbound(api, 'hooked', 'nobody home');
    const [failed] = await settled(api, sub.id, 'failed');
    expect(failed).toMatchObject({ attempt: 3, error: expect.stringContaining('ECONNREFUSED') });
    expect((await api.request('GET', `/v1/webhooks/${sub.id}/deliveries?state=failed`)).json<{ deliveries: Delivery[] }>().deliveries).toHaveLength(1);

    const back = await receiver(port);
    back.verifyWith(sub.secret);
    const retried = await api.request('POST', `/v1/webhooks/${sub.id}/deliveries/${failed!.id}/retry`);
    expect(retried.statusCode).toBe(202);
    expect(retried.json<Delivery>()).toMatchObject({ id: failed!.id, state: 'pending' });
    await settled(api, sub.id, 'delivered');
    expect(back.received.map((x) => [x.id, x.verification])).toEqual([[failed!.id, null]]);

    const again = await api.request('POST', `/v1/webhooks/${sub.id}/deliveries/${failed!.id}/retry`);
    expect([again.statusCode, codeOf(again)]).toEqual([409, 'DELIVERY_NOT_RETRYABLE']);
    const unknown = await api.request('POST', `/v1/webhooks/${sub.id}/deliveries/msg_nope/retry`);
    expect([unknown.statusCode, codeOf(unknown)]).toEqual([404, 'NOT_FOUND']);
  });

  it('does not follow a redirect: the delivery fails at once, the other address is never asked', async () => {
    await clean();
    const api = context.api;
    const r = await receiver();
    const sub = await subscribe(api, r, r.url('/moved'));
    r.answer({ status: 302, headers: { location: r.url('/elsewhere') } });
    await inbound(api, 'hooked', 'over there');
    const [failed] = await settled(api, sub.id, 'failed');
    expect(failed).toMatchObject({ attempt: 1, error: 'redirect not followed (HTTP 302)' });
    expect(r.received).toHaveLength(1);
  });

  it('refuses bad subscriptions with 400 and removes one with its deliveries', async () => {
    await clean();
    const api = context.api;
    for (const [body, code] of [
      [{ url: 'ftp://x.example/', events: ['*'] }, 'VALIDATION_FAILED'],
      [{ url: 'https://u:p@x.example/', events: ['*'] }, 'VALIDATION_FAILED'],
      [{ url: 'https://x.example/', events: ['message.edited'] }, 'VALIDATION_FAILED'],
      [{ url: 'https://x.example/', events: [] }, 'VALIDATION_FAILED'],
      [{ url: 'https://x.example/', events: ['*'], secret: 'not-a-secret' }, 'VALIDATION_FAILED'],
      [{ url: 'https://x.example/', events: ['*'], secret: `whsec_${Buffer.alloc(16).toString('base64')}` }, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await api.request('POST', '/v1/webhooks', body);
      expect([res.statusCode, codeOf(res)], JSON.stringify(body)).toEqual([400, code]);
    }
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const given = await api.request('POST', '/v1/webhooks', { url: 'https://x.example/', events: ['*'], secret });
    expect(given.json<Created>().secret).toBe(secret);
    const id = given.json<Created>().id;
    expect((await api.request('DELETE', `/v1/webhooks/${id}`)).statusCode).toBe(204);
    expect((await api.request('DELETE', `/v1/webhooks/${id}`)).statusCode).toBe(404);
    expect((await api.request('GET', `/v1/webhooks/${id}`)).statusCode).toBe(404);
    expect((await api.request('GET', `/v1/webhooks/${id}/deliveries`)).statusCode).toBe(404);
  });

  it('pages deliveries oldest first', async () => {
    await clean();
    const api = context.api;
    const r = await receiver();
    const sub = await subscribe(api, r, r.url(), ['*']);
    for (const text of ['one', 'two', 'three']) await inbound(api, 'hooked', text);
    await eventually(() => deliveries(api, sub.id, '?state=delivered'), (d) => d.length === 3, 10_000);
    const first = (await api.request('GET', `/v1/webhooks/${sub.id}/deliveries?limit=2`)).json<{ deliveries: Delivery[]; nextCursor: string }>();
    const second = (await api.request('GET', `/v1/webhooks/${sub.id}/deliveries?limit=2&after=${first.nextCursor}`)).json<{ deliveries: Delivery[]; nextCursor: null }>();
    expect(first.deliveries).toHaveLength(2);
    expect(second).toMatchObject({ nextCursor: null });
    expect(new Set([...first.deliveries, ...second.deliveries].map((d) => d.id)).size).toBe(3);
  });
});

describe('a receiver asking to wait', () => {
  const context = useApi('parley_webhooks_retry_after', { runningBots: ['patient'], webhooks: { retryDelaysMs: [60_000, 60_000] } });

  it('is retried at its Retry-After, not on the schedule', async () => {
    const r = await startReceiver();
    try {
      const sub = await subscribe(context.api, r, r.url());
      r.answer({ status: 429, headers: { 'retry-after': '1' } });
      await inbound(context.api, 'patient', 'slow down');
      await settled(context.api, sub.id, 'delivered');
      expect(r.received).toHaveLength(2);
      expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(900);
    } finally {
      await r.close();
    }
  });
});

describe('WEBHOOK_DENY_PRIVATE=1', () => {
  // DNS as the test says: hooks.example is public until it is pointed at loopback.
  const dns = new Map<string, string[]>([['hooks.example', ['93.184.216.34']], ['localhost', ['127.0.0.1']]]);
  const resolve = async (host: string): Promise<LookupAddress[]> => (dns.get(host) ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const context = useApi('parley_webhooks_deny', { runningBots: ['guarded'], webhooks: { denyPrivate: true, resolve } });

  it('refuses a loopback receiver at subscription, by address or by name', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/', 'http://[::ffff:127.0.0.1]:9/', 'http://169.254.169.254/latest']) {
      const res = await context.api.request('POST', '/v1/webhooks', { url, events: ['*'] });
      expect([res.statusCode, codeOf(res)], url).toEqual([400, 'WEBHOOK_URL_REFUSED']);
    }
  });

  it('refuses at delivery a host that turned to loopback after it was subscribed, and fails the delivery for good', async () => {
    const r = await startReceiver();
    try {
      const sub = await subscribe(context.api, r, `http://hooks.example:${r.port}/hook`);
      dns.set('hooks.example', ['127.0.0.1']);
      await inbound(context.api, 'guarded', 'rebinding');
      const [failed] = await settled(context.api, sub.id, 'failed');
      expect(failed).toMatchObject({ attempt: 1, error: expect.stringMatching(/^address refused: hooks\.example resolves to 127\.0\.0\.1, a loopback address/) });
      expect(r.received).toEqual([]);
    } finally {
      await r.close();
    }
  });
});

describe('a crash between an event and its delivery', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await openTestStore('parley_webhooks_crash_e2e');
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('still delivers it after the restart, one delivery row per subscription and event', async () => {
    const r = await startReceiver();
    const crashing = crashingStore(t.store);
    const first = await startApi(crashing.store);
    let second: Api | undefined;
    try {
      await runningBot(first, 'crashy');
      const sub = await subscribe(first, r, r.url());
      // Dies once the message's listeners are being told, before the delivery row is written.
      crashing.armBefore('webhookDeliveries.insert', crashing.occurrences('webhookDeliveries.insert') + 1);
      expect((await inbound(first, 'crashy', 'survive this')).statusCode).toBe(202);
      await eventually(() => crashing.isDead(), Boolean);
      first.services.runtime.halt();
      await first.app.close();
      second = await startApi(t.store);
      const [delivered] = await settled(second, sub.id, 'delivered');
      expect(r.received.map((x) => [x.id, x.verification, x.payload.data['content']])).toEqual([[delivered!.id, null, 'survive this']]);
    } finally {
      await second?.close();
      await r.close();
    }
  });
});
