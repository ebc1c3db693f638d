import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthThrottle, addressBucket } from '../../../src/http/auth-throttle.ts';
import type { AuthThrottle } from '../../../src/http/auth-throttle.ts';
import { registerBearerAuth } from '../../../src/http/auth.plugin.ts';
import { installErrorHandler } from '../../../src/http/error-handler.ts';
import { inspectRoutes } from '../../../src/http/inspect.routes.ts';
import { createInspectionHub } from '../../../src/runtime/actors/inspection-hub.ts';

const API_KEY = 'throttle-test-key-0123456789';
const WRONG = { authorization: 'Bearer not-the-key-0000000000' };
const RIGHT = { authorization: `Bearer ${API_KEY}` };

describe('the failed-authentication throttle', () => {
  it('refuses an address for the rest of its window once it has failed the limit, and no other address', () => {
    let now = 1_000;
    const throttle = createAuthThrottle({ maxFailures: 3, windowMs: 60_000, clock: () => now });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('10.0.0.1')).toBe(0);
      throttle.fail('10.0.0.1');
    }
    expect(throttle.retryAfterMs('10.0.0.1')).toBe(60_000);
    expect(throttle.retryAfterMs('10.0.0.2')).toBe(0);
    now += 59_999;
    expect(throttle.retryAfterMs('10.0.0.1')).toBe(1);
    now += 1;
    expect(throttle.retryAfterMs('10.0.0.1')).toBe(0);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as the IPv4 address', () => {
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressBucket('192.0.2.7')).toBe('192.0.2.7');
    const throttle = createAuthThrottle({ maxFailures: 2 });
    throttle.fail('2001:db8:1:2::a');
    throttle.fail('2001:db8:1:2::b');
    expect(throttle.retryAfterMs('2001:db8:1:2::c')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('2001:db8:1:3::a')).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting the oldest window first', () => {
    const throttle = createAuthThrottle({ maxFailures: 1, maxAddresses: 100 });
    for (let i = 0; i < 1000; i++) throttle.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.retryAfterMs('10.0.0.0')).toBe(0);
    expect(throttle.retryAfterMs('10.0.3.231')).toBeGreaterThan(0);
  });
});

describe('failed authentication over HTTP', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** `/v1/ping` behind the bearer check and `/inspect` behind its own, sharing one throttle as main.ts wires them. */
  async function build(throttle: AuthThrottle): Promise<FastifyInstance> {
    const instance = Fastify({ logger: false });
    installErrorHandler(instance);
    await instance.register(inspectRoutes({ hub: createInspectionHub(), diagrams: () => ({}), apiKey: API_KEY, authThrottle: throttle }));
    await instance.register(
      async (v1) => {
        registerBearerAuth(v1, { apiKey: API_KEY, throttle });
        v1.get('/ping', async () => ({ pong: true }));
      },
      { prefix: '/v1' },
    );
    app = instance;
    return instance;
  }

  it('answers 429 RATE_LIMITED with Retry-After after 20 wrong keys from one address, even to the right key, and leaves other addresses alone', async () => {
    const server = await build(createAuthThrottle());
    for (let i = 0; i < 20; i++) expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: WRONG })).statusCode).toBe(401);
    const limited = await server.inject({ method: 'GET', url: '/v1/ping', headers: RIGHT });
    expect(limited.statusCode).toBe(429);
    expect(limited.json<{ error: { code: string } }>().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    const elsewhere = await server.inject({ method: 'GET', url: '/v1/ping', headers: RIGHT, remoteAddress: '192.0.2.9' });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('does not count successful requests', async () => {
    const server = await build(createAuthThrottle({ maxFailures: 3 }));
    for (let i = 0; i < 50; i++) expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: RIGHT })).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: WRONG })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: RIGHT })).statusCode).toBe(200);
  });

  it('throttles /inspect and its key exchange too, on the same count as /v1', async () => {
    const server = await build(createAuthThrottle({ maxFailures: 4 }));
    expect((await server.inject({ method: 'GET', url: '/inspect?key=wrong-key-000000000000' })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/inspect/actors' })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/inspect/stream', headers: WRONG })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/v1/ping', headers: WRONG })).statusCode).toBe(401);
    const exchange = await server.inject({ method: 'GET', url: `/inspect?key=${API_KEY}` });
    expect(exchange.statusCode).toBe(429);
    expect(exchange.headers['set-cookie']).toBeUndefined();
    expect(exchange.headers['retry-after']).toBeDefined();
    expect((await server.inject({ method: 'GET', url: '/inspect/actors', headers: RIGHT })).statusCode).toBe(429);
    // The page's static assets take no key and are never refused for a neighbour's guesses.
    expect((await server.inject({ method: 'GET', url: '/inspect/assets/inspect.css' })).statusCode).toBe(200);
  });

  it('answers a flood of wrong keys with 429 after the first 20, so guessing gets 20 tries a minute', async () => {
    const server = await build(createAuthThrottle());
    const statuses = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const { statusCode } = await server.inject({ method: 'GET', url: '/v1/ping', headers: { authorization: `Bearer guess-${i}-000000000000` } });
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 20, 429: 1980 });
  });
});
