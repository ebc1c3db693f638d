import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { AUTH, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}

describe('REST control plane guards', () => {
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_api_guards');
    api = await startApi(t.store, { bodyLimit: 16 * 1024 });
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

    it.each([
      ['no token', {}],
      ['a wrong token', { authorization: 'Bearer not-the-key-at-all-000' }],
    ])('answers 401 UNAUTHORIZED with %s on every /v1 route', async (_label, headers) => {
      for (const [method, url] of [['GET', '/v1/bots'], ['POST', '/v1/bots'], ['GET', '/v1/jobs'], ['DELETE', '/v1/bots/bot-a']] as const) {
        const res = await api.request(method, url, method === 'POST' ? { id: 'x', provider: 'simulator' } : undefined, headers);
        expect(res.statusCode).toBe(401);
        expect(res.json<ErrorJson>().error.code).toBe('UNAUTHORIZED');
      }
    });

    it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
      const res = await api.request('POST', '/v1/bots/bot-chat/messages', { to: '1555', text: 'x'.repeat(20 * 1024) });
      expect(res.statusCode).toBe(413);
      expect(res.json<ErrorJson>().error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it.each([
      ['a $-prefixed key', { $where: 'x' }, 'body.media.$where'],
      ['a dotted key', { 'pools.voice': 1 }, 'body.media.pools.voice'],
      ['a NUL byte in a key', { 'a\u0000b': 1 }, 'body.media.a\u0000b'],
      ['a key media settings do not know', { apiKey: 'sk-1' }, 'body.media.apiKey'],
    ])('refuses media settings with %s: 400 naming the key, never a 500', async (_label, media, field) => {
      const res = await api.request('POST', '/v1/bots', { id: 'bot-free-form', provider: 'simulator', media });
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
      expect(res.json<ErrorJson>().error.message.startsWith(`${field}: `)).toBe(true);
    });

    it('answers 415 UNSUPPORTED_MEDIA_TYPE to a body that is not JSON', async () => {
      const res = await api.app.inject({ method: 'POST', url: '/v1/bots', headers: { ...AUTH, 'content-type': 'text/plain' }, payload: 'id=bot-x' });
      expect(res.statusCode).toBe(415);
      expect(res.json<ErrorJson>().error).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type text/plain is not accepted; send application/json' });
    });

    it('takes path parameters as long as the ids it documents (256) and answers a longer one and a bad encoding in its own shape', async () => {
      const long = 'c'.repeat(256);
      expect((await api.request('GET', `/v1/bots/bot-guard/correspondents/${long}/history`)).json<ErrorJson>().error.code).toBe('NOT_FOUND');
      const tooLong = await api.request('GET', `/v1/bots/bot-guard/correspondents/${'c'.repeat(800)}/history`);
      expect(tooLong.statusCode).toBe(414);
      expect(tooLong.json<ErrorJson>().error.code).toBe('URI_TOO_LONG');
      const badEncoding = await api.request('GET', '/v1/bots/bot-guard/correspondents/%E0%A4%A/history');
      expect(badEncoding.statusCode).toBe(400);
      expect(badEncoding.json<ErrorJson>().error.code).toBe('BAD_URL');
    });

    it('documents /metrics as text and the health routes under a tag', async () => {
      const doc = (await api.request('GET', '/docs/json', undefined, {})).json<{ paths: Record<string, { get: { tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> } }> }>();
      expect(Object.keys(doc.paths['/metrics']!.get.responses['200']!.content ?? {})).toEqual(['text/plain']);
      for (const path of ['/healthz', '/readyz']) expect(doc.paths[path]!.get.tags).toEqual(['operations']);
    });

    it('leaves health, metrics and docs open', async () => {
      for (const url of ['/healthz', '/readyz', '/metrics', '/docs/json']) expect((await api.request('GET', url, undefined, {})).statusCode).toBe(200);
    });

    it('documents every /v1 route in OpenAPI with the bearer scheme', async () => {
      const doc = (await api.request('GET', '/docs/json', undefined, {})).json<{ info: { version: string }; paths: Record<string, Record<string, { security?: unknown }>> }>();
      expect(doc.info.version).toBe('1.2.3');
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      for (const route of [
        'POST /v1/bots', 'GET /v1/bots', 'GET /v1/bots/{id}', 'DELETE /v1/bots/{id}', 'POST /v1/bots/{id}/start', 'POST /v1/bots/{id}/stop',
        'GET /v1/bots/{id}/qr', 'POST /v1/bots/{id}/pairing-code', 'GET /v1/bots/{id}/correspondents', 'GET /v1/bots/{id}/correspondents/{cid}/messages',
        'GET /v1/bots/{id}/correspondents/{cid}/history', 'POST /v1/bots/{id}/messages', 'GET /v1/bots/{id}/outbox', 'GET /v1/jobs', 'POST /v1/jobs/{id}/retry',
        'POST /v1/bots/{id}/simulator/inbound', 'GET /v1/bots/{id}/simulator/outbound',
      ]) {
        expect(routes).toContain(route);
        const [method, path] = route.split(' ') as [string, string];
        expect(doc.paths[path]![method.toLowerCase()]!.security).toEqual([{ bearerAuth: [] }]);
      }
      expect(doc.paths['/metrics']!['get']!.security).toBeUndefined();
    });
});

describe('rate limit on /v1', () => {
  it('answers 429 RATE_LIMITED once a key has spent its budget, leaving /healthz alone', async () => {
    const t = await openTestStore('parley_api_rate');
    const api = await startApi(t.store, { rateLimit: { max: 2, timeWindow: 60_000 } });
    try {
      expect((await api.request('GET', '/v1/bots')).statusCode).toBe(200);
      expect((await api.request('GET', '/v1/bots')).statusCode).toBe(200);
      const limited = await api.request('GET', '/v1/bots');
      expect(limited.statusCode).toBe(429);
      expect(limited.json<ErrorJson>().error.code).toBe('RATE_LIMITED');
      expect((await api.request('GET', '/healthz', undefined, AUTH)).statusCode).toBe(200);
    } finally {
      await api.close();
      await t.dispose();
    }
  });
});
