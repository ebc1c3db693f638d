import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { openDescriptors, openRaw, statusOf, within } from '../support/raw-http.ts';
import type { RawClient } from '../support/raw-http.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { AUTH, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

const portOf = (app: FastifyInstance): number => (app.server.address() as AddressInfo).port;

/** A log destination that keeps nothing: the request log runs (and masks URLs), its output is not needed. */
const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

describe('requests with long URLs', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // At info the request log prints every URL, masked: the path an unauthenticated client controls.
    app = await buildApp({ logger: createLogger('info', discard()), health: { pingStore: async () => {}, storeKind: 'test' } });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
  });

  // Forty such requests took 6 s of the event loop when masking the URL was quadratic; linear, they
  // cost about twice forty short ones.
  it('keep /healthz answering within 500 ms while 40 of 16 KB are in flight', async () => {
    const port = portOf(app);
    const attackers = await Promise.all(Array.from({ length: 40 }, () => openRaw(port)));
    const probe = await openRaw(port);
    const ask = async (client: RawClient, url: string): Promise<number> => {
      const before = client.received().length;
      return timed(async () => {
        client.write(`GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await within(5_000, () => client.received().length > before && client.received().endsWith('}'));
      });
    };
    // Warm: the first requests compile the code paths.
    await ask(probe, '/healthz');
    await ask(probe, `/healthz?${'?'.repeat(16_000)}`);
    const long = Buffer.from(`GET /healthz?${'?'.repeat(16_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (const attacker of attackers) attacker.write(long);
    const probes: number[] = [];
    for (let i = 0; i < 5; i++) probes.push(await ask(probe, '/healthz'));
    expect(await within(5_000, () => attackers.every((attacker) => statusOf(attacker.received()) === 200))).toBe(true);
    expect(Math.max(...probes)).toBeLessThan(500);
    for (const client of [...attackers, probe]) client.socket.destroy();
  });
});

describe('slow clients', () => {
  const REQUEST_TIMEOUT_MS = 1_000;
  const HEADERS_TIMEOUT_MS = 500;
  // Node sweeps for overdue requests at a quarter of the shorter timeout; the rest is scheduling.
  const SLACK_MS = HEADERS_TIMEOUT_MS / 4 + 400;
  let t: TestStore;
  let api: Api;
  let port: number;
  beforeAll(async () => {
    t = await openTestStore('parley_slow_clients');
    api = await startApi(t.store, { limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS, connectionTimeoutMs: 10_000 } });
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = portOf(api.app);
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  it('cuts off a client trickling its body a byte at a time once the request timeout has passed, with 408', async () => {
    const client = await openRaw(port);
    client.write(`POST /v1/bots HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
    const trickle = setInterval(() => client.write(' '), 100);
    try {
      expect(await within(REQUEST_TIMEOUT_MS + SLACK_MS + 1_000, client.isClosed)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(await client.closed).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(statusOf(client.received())).toBe(408);
  });

  it('cuts off a client trickling its headers once the headers timeout has passed', async () => {
    const client = await openRaw(port);
    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const trickle = setInterval(() => client.write('a'), 50);
    try {
      expect(await within(HEADERS_TIMEOUT_MS + SLACK_MS + 1_000, client.isClosed)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(await client.closed).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('answers an unauthenticated body with 401 at once and closes the connection instead of reading the body', async () => {
    const client = await openRaw(port);
    client.write('POST /v1/bots HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    expect(await within(1_000, client.isClosed)).toBe(true);
    expect(statusOf(client.received())).toBe(401);
    expect(client.received()).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('leaves no file descriptor behind once 200 connections trickling their headers are cut off', async () => {
    const before = openDescriptors();
    const clients = await Promise.all(Array.from({ length: 200 }, () => openRaw(port)));
    for (const client of clients) client.write('GET /healthz HTTP/1.1\r\nX-Slow: ');
    const trickle = setInterval(() => clients.forEach((client) => client.write('a')), 100);
    try {
      // Each connection is two descriptors here, the client's and the server's.
      expect(openDescriptors()).toBeGreaterThanOrEqual(before + 200);
      expect(await within(HEADERS_TIMEOUT_MS + SLACK_MS + 2_000, () => clients.every((client) => client.isClosed()))).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(Math.max(...(await Promise.all(clients.map((client) => client.closed))))).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS + 500);
    expect(await within(1_000, () => openDescriptors() <= before + 5)).toBe(true);
  });
});
