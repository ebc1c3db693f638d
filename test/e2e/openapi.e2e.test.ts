import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationsOf, resolveSchema } from '../support/openapi-document.ts';
import type { OpenApiDocument } from '../support/openapi-document.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { AUTH, runningBot, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}

const BODY_LIMIT = 4096;
const named = /^#\/components\/schemas\/[A-Za-z]+$/;

describe('the OpenAPI document', () => {
  let t: TestStore;
  let api: Api;
  let doc: OpenApiDocument;
  beforeAll(async () => {
    t = await openTestStore('parley_openapi');
    api = await startApi(t.store, { bodyLimit: BODY_LIMIT });
    await runningBot(api, 'doc-bot');
    doc = (await api.request('GET', '/docs/json', undefined, {})).json<OpenApiDocument>();
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  it('names its schemas and refers to them from every JSON body and response', () => {
    expect(Object.keys(doc.components.schemas ?? {})).toEqual(expect.arrayContaining(['BotView', 'BotList', 'BotCreateBody', 'ErrorBody', 'JobView', 'JobList', 'SimulatorInboundBody']));
    for (const { method, path, operation } of operationsOf(doc)) {
      const schemas = [
        ...Object.values(operation.responses).map((response) => response.content?.['application/json']?.schema),
        operation.requestBody?.content['application/json']?.schema,
      ].filter((schema) => schema !== undefined);
      for (const schema of schemas) {
        expect(schema.$ref, `${method} ${path}`).toMatch(named);
        expect(() => resolveSchema(doc, schema)).not.toThrow();
      }
    }
  });

  it('documents /metrics as Prometheus text and tags every operation', () => {
    expect(Object.keys(doc.paths['/metrics']!['get']!.responses['200']!.content ?? {})).toEqual(['text/plain']);
    for (const { method, path, operation } of operationsOf(doc)) expect(operation.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
  });

  it('documents the errors every /v1 route can answer, each with the error body', () => {
    for (const { method, path, operation } of operationsOf(doc).filter((op) => op.path.startsWith('/v1/'))) {
      const expected = [401, 429, 503];
      if (path.includes('{')) expected.push(400, 404, 414);
      // Fastify reads a body on every method but GET and HEAD, whatever the route declares.
      if (method !== 'GET' && method !== 'HEAD') expected.push(400, 413, 415);
      if (operation.requestBody !== undefined) expected.push(400);
      for (const status of expected) {
        expect(operation.responses[String(status)]?.content?.['application/json']?.schema?.$ref, `${status} of ${method} ${path}`).toBe('#/components/schemas/ErrorBody');
      }
    }
  });

  it('says in the schema that a simulated message has exactly one of text and media, and words the refusal plainly', async () => {
    const body = resolveSchema(doc, doc.paths['/v1/bots/{id}/simulator/inbound']!['post']!.requestBody!.content['application/json']!.schema!);
    expect(body.oneOf).toEqual([{ required: ['text'] }, { required: ['media'] }]);
    const voice = { kind: 'voice', mimetype: 'audio/ogg', dataBase64: 'AAECAw==' };
    for (const payload of [{ from: '0' }, { from: '0', text: 'x', media: voice }]) {
      const res = await api.request('POST', '/v1/bots/doc-bot/simulator/inbound', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error).toEqual({ code: 'VALIDATION_FAILED', message: 'body.text: exactly one of text and media is required' });
    }
    // A download that fails needs no bytes.
    for (const media of [{ kind: 'image', mimetype: 'image/png' }, { kind: 'image', mimetype: 'image/png', dataBase64: '' }]) {
      expect((await api.request('POST', '/v1/bots/doc-bot/simulator/inbound', { from: '0', media, corrupt: true })).statusCode).toBe(202);
    }
  });

  it('answers what Fastify refuses by itself in the error shape, with the status the document lists', async () => {
    const json = { ...AUTH, 'content-type': 'application/json' };
    const cases: [number, string, InjectOptions][] = [
      [404, 'NOT_FOUND', { method: 'GET', url: '/v1/no-such-route', headers: AUTH }],
      [414, 'URI_TOO_LONG', { method: 'GET', url: `/v1/bots/${'b'.repeat(800)}`, headers: AUTH }],
      [400, 'BAD_URL', { method: 'GET', url: '/v1/bots/%E0%A4%A', headers: AUTH }],
      [415, 'UNSUPPORTED_MEDIA_TYPE', { method: 'POST', url: '/v1/bots/doc-bot/start', headers: { ...AUTH, 'content-type': 'text/plain' }, payload: 'hello' }],
      [413, 'PAYLOAD_TOO_LARGE', { method: 'POST', url: '/v1/bots/doc-bot/messages', headers: json, payload: JSON.stringify({ to: '1', text: 'x'.repeat(BODY_LIMIT) }) }],
      [400, 'VALIDATION_FAILED', { method: 'POST', url: '/v1/bots/doc-bot/messages', headers: json, payload: '{"to":' }],
      [400, 'VALIDATION_FAILED', { method: 'POST', url: '/v1/bots/doc-bot/stop', headers: json, payload: '' }],
    ];
    for (const [status, code, request] of cases) {
      const res = await api.app.inject(request);
      expect(res.statusCode, `${request.method} ${request.url}`).toBe(status);
      expect(res.json<ErrorJson>().error).toEqual({ code, message: expect.any(String) });
    }
  });
});

describe('a request arriving while Parley shuts down', () => {
  it('is refused with 503 SHUTTING_DOWN in the error shape', async () => {
    const t = await openTestStore('parley_closing');
    const api = await startApi(t.store);
    try {
      await api.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = api.app.server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      await new Promise((resolve) => socket.once('connect', resolve));
      // The first request's body is held back so the connection is busy when the close begins;
      // the second, pipelined behind it, reaches the server only once it is closing. The first
      // carries the key: a refused one would end the connection.
      const seen = new Promise((resolve) => api.app.server.once('request', resolve));
      socket.write(`POST /v1/bots HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{`);
      await seen;
      const closed = api.app.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write('}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await eventuallyReceived(() => received, /SHUTTING_DOWN/);
      socket.destroy();
      await closed;
      const second = received.slice(received.indexOf('HTTP/1.1', 1));
      expect(second).toMatch(/^HTTP\/1\.1 503 /);
      expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'SHUTTING_DOWN', message: expect.any(String) } });
    } finally {
      await api.close();
      await t.dispose();
    }
  });
});

async function eventuallyReceived(read: () => string, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !pattern.test(read()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
