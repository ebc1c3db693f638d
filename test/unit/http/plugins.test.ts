import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { BotCreateBody, BotView } from '../../../src/control-plane/dto/bot.dto.ts';
import { registerBearerAuth } from '../../../src/http/auth.plugin.ts';
import { installErrorHandler } from '../../../src/http/error-handler.ts';
import { registerOpenApi } from '../../../src/http/openapi.plugin.ts';
import { registerRateLimit } from '../../../src/http/rate-limit.plugin.ts';
import { errorResponses } from '../../../src/http/schemas/common.schemas.ts';
import { registerSharedSchemas } from '../../../src/http/schemas/shared-schemas.ts';

const API_KEY = 'test-key-0123456789abcdef';
const auth = { authorization: `Bearer ${API_KEY}` };

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(limit = { max: 1000, timeWindow: 60_000 }): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false });
  installErrorHandler(instance);
  registerSharedSchemas(instance);
  await registerOpenApi(instance, { version: '9.9.9' });
  instance.get('/healthz', async () => ({ status: 'ok' }));
  await instance.register(
    async (v1) => {
      registerBearerAuth(v1, { apiKey: API_KEY });
      await registerRateLimit(v1, limit);
      v1.get('/ping', async () => ({ pong: true }));
      v1.post(
        '/bots',
        { schema: { body: BotCreateBody, response: { 201: BotView, ...errorResponses(400, 401, 429) } } },
        async (request, reply) => {
          const body = request.body as BotCreateBody;
          const now = new Date(0);
          return reply.status(201).send({
            id: body.id,
            provider: body.provider,
            state: 'stopped',
            desiredState: 'stopped',
            pendingMediaJobs: 0,
            queues: { correspondents: 0, messages: 0, placeholders: 0 },
            owner: null,
            createdAt: now,
            updatedAt: now,
          });
        },
      );
    },
    { prefix: '/v1' },
  );
  await instance.ready();
  app = instance;
  return instance;
}

describe('bearer auth', () => {
  it.each([
    ['no header', {}],
    ['a wrong token of the same length', { authorization: `Bearer ${API_KEY.replace(/.$/, 'X')}` }],
    ['a wrong token of another length', { authorization: 'Bearer short' }],
    ['another scheme', { authorization: `Basic ${API_KEY}` }],
    ['an empty token', { authorization: 'Bearer ' }],
  ])('refuses %s with 401 UNAUTHORIZED', async (_label, headers) => {
    const server = await build();
    const res = await server.inject({ method: 'GET', url: '/v1/ping', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Missing or invalid bearer token' } });
  });

  it('lets the right token through, and leaves routes outside the scope open', async () => {
    const server = await build();
    const res = await server.inject({ method: 'GET', url: '/v1/ping', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ pong: true });
    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses before the body is validated', async () => {
    const server = await build();
    const res = await server.inject({ method: 'POST', url: '/v1/bots', payload: { nope: 1 } });
    expect(res.statusCode).toBe(401);
  });

  it('will not run without a key', () => {
    expect(() => registerBearerAuth(Fastify(), { apiKey: '' })).toThrow(/non-empty/);
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED once the budget is spent', async () => {
    const server = await build({ max: 2, timeWindow: 60_000 });
    for (let i = 0; i < 2; i++) expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: auth })).statusCode).toBe(200);
    const res = await server.inject({ method: 'GET', url: '/v1/ping', headers: auth });
    expect(res.statusCode).toBe(429);
    const body = res.json<{ error: { code: string; message: string; details: Record<string, unknown> } }>();
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toMatch(/^Rate limit exceeded, retry in /);
    expect(body.error.details).toMatchObject({ limit: 2 });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['x-ratelimit-limit']).toBe('2');
  });

  it('does not count refused tokens against the budget, and still refuses them after it is spent', async () => {
    const server = await build({ max: 1, timeWindow: 60_000 });
    for (let i = 0; i < 3; i++) expect((await server.inject({ method: 'GET', url: '/v1/ping' })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: auth })).statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: auth })).statusCode).toBe(429);
    expect((await server.inject({ method: 'GET', url: '/v1/ping' })).statusCode).toBe(401);
  });

  it('rejects a nonsensical limit', async () => {
    await expect(registerRateLimit(Fastify(), { max: 0, timeWindow: 1000 })).rejects.toThrow(/positive integer/);
  });
});

describe('schema validation', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a bad id', { id: 'Not Valid', provider: 'simulator' }, /^body\.id: must match pattern/],
    ['an unknown provider', { id: 'b1', provider: 'telegram' }, /^body\.provider: /],
    ['a non-positive queue limit', { id: 'b1', provider: 'simulator', queue: { maxMessages: 0 } }, /^body\.queue\.maxMessages: /],
    ['a missing id', { provider: 'simulator' }, /'id'/],
  ])('turns %s into 400 VALIDATION_FAILED naming the field', async (_label, payload, message) => {
    const server = await build();
    const res = await server.inject({ method: 'POST', url: '/v1/bots', headers: auth, payload });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toMatch(message);
  });

  it('accepts a valid body and serializes dates', async () => {
    const server = await build();
    const payload = { id: 'bot-1', provider: 'simulator', queue: { maxMessages: 10 }, ai: { enabled: false } };
    const res = await server.inject({ method: 'POST', url: '/v1/bots', headers: auth, payload });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: 'bot-1', state: 'stopped', createdAt: '1970-01-01T00:00:00.000Z' });
  });
});

describe('OpenAPI', () => {
  it('documents routes with the bearer scheme on /v1 only', async () => {
    const server = await build();
    const res = await server.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      openapi: string;
      info: { title: string; version: string };
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown }>>;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: 'Parley', version: '9.9.9' });
    expect(doc.components.securitySchemes['bearerAuth']).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.paths['/v1/bots']?.['post']?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/bots']?.['post']?.requestBody).toBeDefined();
    expect(doc.paths['/healthz']?.['get']?.security).toBeUndefined();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs'))).toBe(false);
  });

  it('serves the UI and its assets without authentication', async () => {
    const server = await build();
    const res = await server.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
    const asset = await server.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(asset.statusCode).toBe(200);
  });
});
