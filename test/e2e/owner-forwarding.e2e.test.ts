import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCloudApiProvider } from '../../src/adapters/cloud-api/cloud-api.provider.ts';
import { createCloudApiWebhooks } from '../../src/adapters/cloud-api/cloud-api-webhooks.ts';
import { createGraphClient } from '../../src/adapters/cloud-api/graph-client.ts';
import type { CloudApiAccount } from '../../src/domain/cloud-api-account.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { readCloudApiAccount } from '../../src/runtime/bots/cloud-api-credentials.ts';
import { signWebhook } from '../support/fake-graph-server.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { API_KEY, AUTH, runningBot, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';
import { closedPort, fakeClusterWorld, silentServer } from './cluster-harness.ts';

/**
 * Two instances of Parley on one store, each with its own runtime, control plane and HTTP server
 * listening on a real port; a fake cluster says which hosts which bot and where each answers.
 * A call for a bot reaches the instance hosting it whichever instance it is sent to.
 */

interface ErrorJson {
  error: { code: string; message: string };
}
interface BotJson {
  id: string;
  state: string;
  owner: { instanceId: string; epoch: number; leaseUntil: string } | null;
}

const PHONE_ID = '106540352242922';
const APP_SECRET = 'appsecret-forwarding-5b1d';
const VERIFY_TOKEN = 'verify-forwarding-71c2';

const world = fakeClusterWorld();
let t: TestStore;
let a: Api;
let b: Api;
let urlOf: { a: string; b: string };
/** Requests B's server received, as they arrived (method and URL). */
const reachedB: string[] = [];

async function listening(api: Api): Promise<string> {
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
}

/** A real HTTP call to an instance: what arrives at the other one is what went over the wire. */
async function call(base: string, method: string, path: string, options: { body?: string | object; headers?: Record<string, string> } = {}) {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers = { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

beforeAll(async () => {
  t = await openTestStore('parley_e2e_owner_forwarding');
  const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
  const graph = (account: CloudApiAccount) => createGraphClient(account);
  const cloudApi = {
    providers: { 'cloud-api': createCloudApiProvider({ account: (botId, settings) => readCloudApiAccount(t.store.authState, botId, settings), graph, logger }) },
    cloudApiWebhooks: createCloudApiWebhooks({ history: t.store.history, graph, maxMediaBytes: 1024 * 1024 }),
  };
  a = await startApi(t.store, { instanceId: 'inst-a', cluster: world.clusterOf('inst-a'), limits: { ownerTimeoutMs: 500 }, ...cloudApi });
  b = await startApi(t.store, { instanceId: 'inst-b', cluster: world.clusterOf('inst-b'), ...cloudApi });
  b.app.server.on('request', (req: { method?: string; url?: string }) => reachedB.push(`${req.method} ${req.url}`));
  urlOf = { a: await listening(a), b: await listening(b) };
  world.join('inst-a', urlOf.a);
  world.join('inst-b', urlOf.b);
  // Each instance's runtime hosts what it creates; the world says the same.
  world.place('fw-a', 'inst-a');
  await runningBot(a, 'fw-a');
  world.place('fw-b', 'inst-b');
  await runningBot(b, 'fw-b');
  world.place('fw-cloud', 'inst-b');
  const cloud = await b.request('POST', '/v1/bots', {
    id: 'fw-cloud', provider: 'cloud-api', cloudApi: { phoneNumberId: PHONE_ID, accessToken: 'EAAG-forwarding-token', appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN },
  });
  expect(cloud.statusCode, cloud.body).toBe(201);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await t?.dispose();
});
afterEach(() => {
  world.place('fw-b', 'inst-b');
  world.forget('inst-a');
  world.forget('inst-b');
  reachedB.length = 0;
});

describe('a call for a bot hosted by another instance', () => {
  it('is executed by the owner and says so; a call for a local bot is answered here', async () => {
    const remote = await call(urlOf.a, 'GET', '/v1/bots/fw-b');
    expect(remote.status, remote.text).toBe(200);
    expect(remote.headers.get('parley-instance')).toBe('inst-b');
    expect(remote.json<BotJson>()).toMatchObject({ id: 'fw-b', state: 'connected', owner: { instanceId: 'inst-b', epoch: 1 } });
    expect(reachedB).toEqual(['GET /v1/bots/fw-b']);
    // An injected request (no socket of its own) is forwarded alike.
    const injected = await a.request('GET', '/v1/bots/fw-b');
    expect(injected.statusCode).toBe(200);
    expect(injected.headers['parley-instance']).toBe('inst-b');
    reachedB.length = 0;

    const local = await call(urlOf.a, 'GET', '/v1/bots/fw-a');
    expect(local.headers.get('parley-instance')).toBe('inst-a');
    expect(local.json<BotJson>()).toMatchObject({ id: 'fw-a', state: 'connected', owner: { instanceId: 'inst-a', epoch: 1 } });
    expect(reachedB).toEqual([]);
    // Answers that are no bot's say who gave them too.
    expect((await call(urlOf.a, 'GET', '/healthz')).headers.get('parley-instance')).toBe('inst-a');
  });

  it('carries a simulated message\'s body intact to the owner, which stores it', async () => {
    const text = 'Grüße aus A 👋 "quoted" \\ back';
    const sent = await call(urlOf.a, 'POST', '/v1/bots/fw-b/simulator/inbound', { body: { from: '4915550007', text } });
    expect(sent.status, sent.text).toBe(202);
    expect(sent.headers.get('parley-instance')).toBe('inst-b');
    const history = await call(urlOf.a, 'GET', '/v1/bots/fw-b/correspondents/4915550007/history');
    expect(history.headers.get('parley-instance')).toBe('inst-b');
    expect(history.json<{ messages: { content: string }[] }>().messages.map((m) => m.content)).toEqual([text]);
    // The owner's own refusals come back as they are.
    const invalid = await call(urlOf.a, 'POST', '/v1/bots/fw-b/simulator/inbound', { body: { from: '4915550007' } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('parley-instance')).toBe('inst-b');
    expect(invalid.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
  });

  it('passes Meta\'s signed webhook on byte for byte: the owner verifies it and stores its message once', async () => {
    // Spacing and key order as Meta sends them, which re-serialized JSON would not keep.
    const raw = `{"object": "whatsapp_business_account","entry":[{"id":"1022","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",`
      + `"metadata":{"display_phone_number":"15550783881","phone_number_id":"${PHONE_ID}"},"contacts":[{"profile":{"name":"Zoë"},"wa_id":"4915550008"}],`
      + `"messages":[{"from":"4915550008","id":"wamid.forwarded-0001","timestamp":"${Math.floor(Date.now() / 1000)}","type":"text","text":{"body":"über Meta"}}]}}]}]}`;
    const signed = { 'x-hub-signature-256': signWebhook(raw, APP_SECRET), authorization: '' };
    for (let i = 0; i < 2; i++) {
      const res = await call(urlOf.a, 'POST', '/webhooks/whatsapp/fw-cloud', { body: raw, headers: signed });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('parley-instance')).toBe('inst-b');
      expect(res.json()).toEqual({ messages: 1, statuses: 0, skipped: 0 });
    }
    const rows = await t.store.history.list('fw-cloud', '4915550008', { limit: 10 });
    expect(rows.map((r) => r.content)).toEqual(['über Meta']);

    const forged = await call(urlOf.a, 'POST', '/webhooks/whatsapp/fw-cloud', { body: raw, headers: { 'x-hub-signature-256': signWebhook(`${raw} `, APP_SECRET) } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('parley-instance')).toBe('inst-b');
    expect(forged.json<ErrorJson>().error.code).toBe('WEBHOOK_SIGNATURE_INVALID');

    const verified = await call(urlOf.a, 'GET', `/webhooks/whatsapp/fw-cloud?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=4242`);
    expect(verified.status).toBe(200);
    expect(verified.text).toBe('4242');
    expect(verified.headers.get('parley-instance')).toBe('inst-b');
  });

  it('is refused by the receiving instance for a wrong key, without reaching the owner', async () => {
    const res = await call(urlOf.a, 'POST', '/v1/bots/fw-b/stop', { headers: { authorization: `Bearer ${API_KEY}x` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('parley-instance')).toBe('inst-a');
    expect(res.json<ErrorJson>().error.code).toBe('UNAUTHORIZED');
    expect(reachedB).toEqual([]);
  });
});

describe('a call for a bot no instance can execute', () => {
  it('is answered 503 OWNER_UNAVAILABLE with Retry-After while nobody hosts the bot; the bot itself is shown from the store', async () => {
    world.place('fw-b', null);
    const send = await call(urlOf.a, 'POST', '/v1/bots/fw-b/messages', { body: { to: '4915550009', text: 'hello' } });
    expect(send.status).toBe(503);
    expect(send.headers.get('retry-after')).toBe('1');
    expect(send.headers.get('parley-instance')).toBe('inst-a');
    expect(send.json<ErrorJson>().error.code).toBe('OWNER_UNAVAILABLE');

    const shown = await call(urlOf.a, 'GET', '/v1/bots/fw-b');
    expect(shown.status).toBe(200);
    expect(shown.headers.get('parley-instance')).toBe('inst-a');
    // As its host last stored it.
    expect(shown.json<BotJson>()).toMatchObject({ id: 'fw-b', state: 'connected', owner: null });

    // A bot that does not exist is not found, owner or not.
    const unknown = await call(urlOf.a, 'POST', '/v1/bots/fw-nobody/messages', { body: { to: '4915550009', text: 'hello' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json<ErrorJson>().error.code).toBe('NOT_FOUND');
    expect(reachedB).toEqual([]);
  });

  it('stores a start or a stop while nobody hosts the bot, for the instance that takes it next', async () => {
    world.place('fw-b', null);
    const stop = await call(urlOf.a, 'POST', '/v1/bots/fw-b/stop');
    expect(stop.status).toBe(200);
    expect((await t.store.bots.get('fw-b'))?.desiredState).toBe('stopped');
    const start = await call(urlOf.a, 'POST', '/v1/bots/fw-b/start');
    expect(start.status).toBe(202);
    expect((await t.store.bots.get('fw-b'))?.desiredState).toBe('running');
    expect(reachedB).toEqual([]);
  });

  it('is answered 503 when the owner refuses connections or stays silent, never with the network\'s words', async () => {
    world.join('inst-gone', `http://127.0.0.1:${await closedPort()}`);
    const silent = await silentServer();
    world.join('inst-silent', silent.url);
    try {
      for (const owner of ['inst-gone', 'inst-silent']) {
        world.place('fw-b', owner);
        const began = Date.now();
        const res = await call(urlOf.a, 'POST', '/v1/bots/fw-b/messages', { body: { to: '4915550009', text: 'hello' } });
        expect(res.status, owner).toBe(503);
        expect(res.json<ErrorJson>().error.code).toBe('OWNER_UNAVAILABLE');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(res.text).not.toMatch(/ECONN|socket|127\.0\.0\.1/);
        expect(Date.now() - began).toBeLessThan(5_000);
      }
      // Reading the bot still works: from the store.
      const shown = await call(urlOf.a, 'GET', '/v1/bots/fw-b');
      expect(shown.status).toBe(200);
      expect(shown.json<BotJson>().owner?.instanceId).toBe('inst-silent');
    } finally {
      world.leave('inst-gone');
      world.leave('inst-silent');
      await silent.close();
    }
  });

  it('is never forwarded twice: an instance that does not host the bot answers a forwarded call itself', async () => {
    // B, for a moment, takes A for the owner while A takes B for it.
    world.believe('inst-b', 'fw-b', 'inst-a');
    const message = { body: { to: '4915550009', text: 'hello' } };
    const res = await call(urlOf.a, 'POST', '/v1/bots/fw-b/messages', message);
    expect(res.status).toBe(503);
    expect(res.headers.get('parley-instance')).toBe('inst-b');
    expect(res.json<ErrorJson>().error.code).toBe('OWNER_UNAVAILABLE');
    expect(reachedB).toEqual(['POST /v1/bots/fw-b/messages']);

    // A call that says it was forwarded is not sent on by its receiver either.
    world.forget('inst-b');
    const marked = await call(urlOf.a, 'POST', '/v1/bots/fw-b/messages', { ...message, headers: { 'parley-forwarded-by': 'inst-x' } });
    expect(marked.status).toBe(503);
    expect(marked.headers.get('parley-instance')).toBe('inst-a');
    expect(reachedB).toHaveLength(1);
  });
});

describe('the cluster as any instance shows it', () => {
  it('lists every bot with its owner, hosted here or elsewhere', async () => {
    const res = await call(urlOf.a, 'GET', '/v1/bots');
    expect(res.headers.get('parley-instance')).toBe('inst-a');
    const bots = res.json<{ bots: BotJson[] }>().bots;
    expect(bots.map((bot) => [bot.id, bot.state, bot.owner?.instanceId])).toEqual([
      ['fw-a', 'connected', 'inst-a'],
      ['fw-b', 'connected', 'inst-b'],
      ['fw-cloud', 'stopped', 'inst-b'],
    ]);
    expect(reachedB).toEqual([]);
  });

  it('lists the live instances with their bots (GET /v1/instances)', async () => {
    const res = await call(urlOf.a, 'GET', '/v1/instances');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      instances: [
        { id: 'inst-a', url: urlOf.a, startedAt: expect.any(String), seenAt: expect.any(String), aliveUntil: expect.any(String), capacity: null, bots: ['fw-a'], self: true },
        { id: 'inst-b', url: urlOf.b, startedAt: expect.any(String), seenAt: expect.any(String), aliveUntil: expect.any(String), capacity: null, bots: ['fw-b', 'fw-cloud'], self: false },
      ],
    });
    expect((await call(urlOf.a, 'GET', '/v1/instances', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('deletes a bot through any instance: the owner does it and answers 204', async () => {
    const deleted = await call(urlOf.a, 'DELETE', '/v1/bots/fw-cloud');
    expect(deleted.status, deleted.text).toBe(204);
    expect(deleted.headers.get('parley-instance')).toBe('inst-b');
    expect(deleted.text).toBe('');
    expect(b.services.runtime.bots.has('fw-cloud')).toBe(false);
    world.place('fw-cloud', null);
    expect((await call(urlOf.a, 'GET', '/v1/bots/fw-cloud')).status).toBe(404);
  });

  it('shows this instance\'s leases on /inspect', async () => {
    const res = await call(urlOf.b, 'GET', '/inspect/cluster');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      instance: 'inst-b',
      leases: [{ botId: 'fw-b', epoch: 1, leaseUntil: expect.any(Number) }],
      instances: [{ id: 'inst-a', self: false, bots: 1 }, { id: 'inst-b', self: true, bots: 1 }],
    });
  });
});
