import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../src/control-plane/control-plane.ts';
import { buildApp } from '../../../src/http/app.ts';
import { installErrorHandler } from '../../../src/http/error-handler.ts';
import { withoutKey } from '../../../src/http/inspect-auth.ts';
import { inspectRoutes } from '../../../src/http/inspect.routes.ts';
import type { InspectDeps } from '../../../src/http/inspect.routes.ts';
import { cookieValue, INSPECT_COOKIE } from '../../../src/http/inspect-sessions.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createInspectionHub } from '../../../src/runtime/actors/inspection-hub.ts';

const API_KEY = 'inspect-session-key-0123456789';
const INSPECT_KEY = 'read-only-inspector-key-9876543210';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(deps: Partial<InspectDeps> = {}, trustProxy = false): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false, trustProxy });
  installErrorHandler(instance);
  await instance.register(inspectRoutes({ hub: createInspectionHub(), diagrams: () => ({ bot: 'stateDiagram-v2' }), apiKey: API_KEY, ...deps }));
  app = instance;
  return instance;
}

/** The session cookie a response sets: its value and its attributes, lower-cased. */
function setCookie(res: LightMyRequestResponse): { value: string; attributes: string[] } {
  const header = res.headers['set-cookie'];
  expect(typeof header).toBe('string');
  const [pair = '', ...attributes] = String(header).split(';').map((part) => part.trim());
  expect(pair.startsWith(`${INSPECT_COOKIE}=`)).toBe(true);
  return { value: pair.slice(INSPECT_COOKIE.length + 1), attributes: attributes.map((a) => a.toLowerCase()) };
}

const withCookie = (value: string) => ({ cookie: `other=1; ${INSPECT_COOKIE}=${value}` });

describe('/inspect?key= exchanged for a session cookie', () => {
  it('answers 303 to the same URL without the key, with an HttpOnly, SameSite=Strict cookie for /inspect that is not the key', async () => {
    const server = await build();
    const res = await server.inject({ method: 'GET', url: `/inspect?filter=bot&key=${API_KEY}&view=events` });
    expect(res.statusCode).toBe(303);
    expect(res.headers['location']).toBe('/inspect?filter=bot&view=events');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const cookie = setCookie(res);
    expect(cookie.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/inspect', 'max-age=43200']));
    // Served over plain HTTP, the cookie cannot demand HTTPS or the browser would never send it back.
    expect(cookie.attributes).not.toContain('secure');
    expect(cookie.value).not.toContain(API_KEY);
    expect(cookie.value).not.toContain(Buffer.from(API_KEY).toString('base64url'));
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await server.inject({ method: 'GET', url: `/inspect?key=${API_KEY}` })).headers['location']).toBe('/inspect');
  });

  it('marks the cookie Secure when the page came over HTTPS', async () => {
    const server = await build({}, true);
    const res = await server.inject({ method: 'GET', url: `/inspect?key=${API_KEY}`, headers: { 'x-forwarded-proto': 'https' } });
    expect(setCookie(res).attributes).toContain('secure');
  });

  it('authenticates the page, its JSON and its event stream by the cookie, and each exchange makes a new session', async () => {
    const server = await build();
    const first = setCookie(await server.inject({ method: 'GET', url: `/inspect?key=${API_KEY}` })).value;
    const second = setCookie(await server.inject({ method: 'GET', url: `/inspect?key=${API_KEY}` })).value;
    expect(first).not.toBe(second);
    const page = await server.inject({ method: 'GET', url: '/inspect', headers: withCookie(first) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).not.toContain(API_KEY);
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: withCookie(second) })).json()).toMatchObject({ actors: [] });
    expect((await server.inject({ method: 'GET', url: '/inspect/diagrams', headers: withCookie(first) })).statusCode).toBe(200);
    const address = await server.listen({ host: '127.0.0.1', port: 0 });
    const stream = await fetch(`${address}/inspect/stream`, { headers: withCookie(first) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    await stream.body?.cancel();
  });

  it('refuses a wrong key, a forged or stale cookie, and a key in the query of anything but the page', async () => {
    const server = await build();
    const wrong = await server.inject({ method: 'GET', url: '/inspect?key=not-the-key-0000000000' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const forged = await server.inject({ method: 'GET', url: '/inspect/actors', headers: withCookie('A'.repeat(43)) });
    expect(forged.statusCode).toBe(401);
    // The browser is told to drop a cookie that no longer opens anything.
    expect(setCookie(forged)).toMatchObject({ value: '', attributes: expect.arrayContaining(['max-age=0']) });
    expect((await server.inject({ method: 'GET', url: `/inspect/actors?key=${API_KEY}` })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: `/inspect/stream?key=${API_KEY}` })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: { authorization: `Bearer ${API_KEY}` } })).statusCode).toBe(200);
  });

  it('ends a session after its time', async () => {
    const server = await build({ sessionTtlMs: 100 });
    const cookie = setCookie(await server.inject({ method: 'GET', url: `/inspect?key=${API_KEY}` })).value;
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: withCookie(cookie) })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: withCookie(cookie) })).statusCode).toBe(401);
  });

  it('takes the key out of a URL whatever else it carries', () => {
    expect(withoutKey('/inspect?key=a')).toBe('/inspect');
    expect(withoutKey('/inspect?a=1&key=x&key=y&b=2')).toBe('/inspect?a=1&b=2');
    expect(withoutKey('/inspect')).toBe('/inspect');
    expect(cookieValue('a=1;parley_inspect=xyz ; b=2', 'parley_inspect')).toBe('xyz');
    expect(cookieValue('parley_inspectx=1', 'parley_inspect')).toBeNull();
  });
});

describe('the read-only inspector key', () => {
  async function buildWithApi(lines?: string[]): Promise<FastifyInstance> {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines?.push(chunk.toString());
        done();
      },
    });
    const instance = await buildApp({
      logger: createLogger(lines === undefined ? 'silent' : 'info', destination),
      health: { pingStore: async () => undefined, storeKind: 'test' },
      routes: [inspectRoutes({ hub: createInspectionHub(), diagrams: () => ({}), apiKey: API_KEY, inspectKey: INSPECT_KEY })],
      api: { controlPlane: {} as ControlPlane, apiKey: API_KEY },
    });
    app = instance;
    return instance;
  }

  it('opens /inspect, by exchange or as a bearer token, and nothing under /v1', async () => {
    const server = await buildWithApi();
    const exchange = await server.inject({ method: 'GET', url: `/inspect?key=${INSPECT_KEY}` });
    expect(exchange.statusCode).toBe(303);
    const cookie = setCookie(exchange).value;
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: withCookie(cookie) })).statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: { authorization: `Bearer ${INSPECT_KEY}` } })).statusCode).toBe(200);
    const v1 = await server.inject({ method: 'GET', url: '/v1/bots', headers: { authorization: `Bearer ${INSPECT_KEY}` } });
    expect(v1.statusCode).toBe(401);
    // Nor does the inspector's cookie open /v1: it is scoped to /inspect and /v1 reads no cookie.
    expect((await server.inject({ method: 'GET', url: '/v1/bots', headers: withCookie(cookie) })).statusCode).toBe(401);
  });

  it('never lets a key from the query into the request log', async () => {
    const lines: string[] = [];
    const server = await buildWithApi(lines);
    for (const url of [`/inspect?key=${API_KEY}`, `/inspect?x=1&key=${INSPECT_KEY}`, '/inspect?key=wrong-guess-00000000', `/inspect/actors?key=${API_KEY}`]) {
      await server.inject({ method: 'GET', url });
    }
    const log = lines.join('');
    expect(log).toContain('/inspect?key=[redacted]');
    expect(log).not.toContain(API_KEY);
    expect(log).not.toContain(INSPECT_KEY);
    expect(log).not.toContain('wrong-guess');
  });
});
