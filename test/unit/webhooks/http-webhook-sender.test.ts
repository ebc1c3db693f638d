import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpWebhookSender } from '../../../src/adapters/webhooks/http-webhook-sender.ts';

describe('the HTTP webhook sender', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        const [, route, arg] = (req.url ?? '').split('/');
        if (route === 'status') res.writeHead(Number(arg), arg === '429' ? { 'retry-after': '7' } : arg === '503' ? { 'retry-after': 'Thu, 01 Jan 2099 00:00:00 GMT' } : {}).end('ok');
        else if (route === 'slow') setTimeout(() => res.writeHead(200).end(), 2_000);
        else if (route === 'big') res.writeHead(200).end(Buffer.alloc(1024 * 1024, 97));
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const sender = createHttpWebhookSender({ timeoutMs: 300, denyPrivate: false, clock: () => Date.UTC(2098, 11, 31, 23, 59, 0) });
  const send = (path: string, s = sender) => s.send({ url: `${base}${path}`, headers: { 'webhook-id': 'msg_1' }, body: '{"type":"bot.state"}', signal: new AbortController().signal });

  it('posts the body as JSON with the given headers and takes a 2xx as delivered', async () => {
    expect(await send('/ok?x=1')).toEqual({ outcome: 'delivered', status: 204 });
    expect(seen.at(-1)).toMatchObject({ path: '/ok?x=1', body: '{"type":"bot.state"}', headers: { 'webhook-id': 'msg_1', 'content-type': 'application/json', 'content-length': '20' } });
  });

  it.each([
    ['/status/500', { outcome: 'retry', status: 500, error: 'HTTP 500', retryAfterMs: null }],
    ['/status/429', { outcome: 'retry', status: 429, error: 'HTTP 429', retryAfterMs: 7_000 }],
    ['/status/503', { outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: 60_000 }],
    ['/status/301', { outcome: 'fail', status: 301, error: 'redirect not followed (HTTP 301)' }],
    ['/status/404', { outcome: 'fail', status: 404, error: 'HTTP 404' }],
    ['/status/400', { outcome: 'fail', status: 400, error: 'HTTP 400' }],
  ])('answers %s with %j', async (path, result) => {
    expect(await send(path)).toEqual(result);
  });

  it('gives up on a receiver slower than the timeout, as a network error worth a retry', async () => {
    expect(await send('/slow')).toEqual({ outcome: 'retry', status: null, error: 'timed out after 300 ms', retryAfterMs: null });
  });

  it('reads no more than the cap of a large answer and keeps the outcome', async () => {
    const capped = createHttpWebhookSender({ timeoutMs: 2_000, denyPrivate: false, maxResponseBytes: 1024 });
    expect(await send('/big', capped)).toEqual({ outcome: 'delivered', status: 200 });
  });

  it('retries a refused connection, and refuses a private address for good under WEBHOOK_DENY_PRIVATE', async () => {
    expect(await createHttpWebhookSender({ timeoutMs: 1_000, denyPrivate: false }).send({ url: 'http://127.0.0.1:9/', headers: {}, body: '{}', signal: new AbortController().signal }))
      .toMatchObject({ outcome: 'retry', error: expect.stringContaining('ECONNREFUSED') });
    const guarded = createHttpWebhookSender({ timeoutMs: 1_000, denyPrivate: true });
    const before = seen.length;
    expect(await send('/ok', guarded)).toEqual({ outcome: 'fail', status: null, error: 'address refused: 127.0.0.1 is a loopback address (WEBHOOK_DENY_PRIVATE=1)' });
    const named = createHttpWebhookSender({ timeoutMs: 1_000, denyPrivate: true, resolve: async () => [{ address: '10.1.1.1', family: 4 }] });
    expect(await named.send({ url: 'http://internal.example/', headers: {}, body: '{}', signal: new AbortController().signal }))
      .toEqual({ outcome: 'fail', status: null, error: 'address refused: internal.example resolves to 10.1.1.1, a private address (WEBHOOK_DENY_PRIVATE=1)' });
    expect(seen.length).toBe(before);
  });
});
