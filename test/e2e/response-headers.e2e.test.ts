import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTH, useApi } from './api-harness.ts';

describe('response headers', () => {
  const env = useApi('parley_response_headers');

  it('keep every /v1 answer out of caches, refusals included', async () => {
    for (const [url, headers, status] of [
      ['/v1/bots', AUTH, 200],
      ['/v1/bots/nobody', AUTH, 404],
      ['/v1/bots', {}, 401],
    ] as const) {
      const res = await env.api.request('GET', url, undefined, headers);
      expect(res.statusCode).toBe(status);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('give /docs a content security policy, no sniffing and no framing', async () => {
    for (const url of ['/docs/', '/docs/json', '/docs/static/swagger-initializer.js']) {
      const res = await env.api.request('GET', url, undefined, {});
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-security-policy'], url).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(res.headers['content-security-policy'], url).not.toMatch(/https?:/);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
    }
  });

  it('forbid framing /inspect, keeping its own policy', async () => {
    const res = await env.api.request('GET', '/inspect', undefined, AUTH);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  });
});

/** Opens `/inspect/stream` from `localAddress` (any 127.x.y.z reaches a server on 127.0.0.1). */
function openStream(port: number, localAddress: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/inspect/stream', localAddress, headers: AUTH, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function bodyOf(res: IncomingMessage): Promise<{ error: { code: string; message: string } }> {
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return JSON.parse(text) as { error: { code: string; message: string } };
}

describe('event streams', () => {
  const env = useApi('parley_stream_limits', { limits: { maxEventStreams: 3, maxEventStreamsPerClient: 2 } });
  let port: number;
  beforeAll(async () => {
    await env.api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (env.api.app.server.address() as AddressInfo).port;
  });

  it('are capped per client address and overall with 429 TOO_MANY_STREAMS, and a closed one frees its place', async () => {
    const a1 = await openStream(port, '127.0.0.1');
    const a2 = await openStream(port, '127.0.0.1');
    expect([a1.statusCode, a2.statusCode]).toEqual([200, 200]);
    expect(a1.headers['content-type']).toMatch(/^text\/event-stream/);
    const a3 = await openStream(port, '127.0.0.1');
    expect(a3.statusCode).toBe(429);
    expect((await bodyOf(a3)).error).toEqual({ code: 'TOO_MANY_STREAMS', message: 'Too many open event streams (2 for one client address); close one first' });

    const b1 = await openStream(port, '127.0.0.2');
    expect(b1.statusCode).toBe(200);
    const b2 = await openStream(port, '127.0.0.2');
    expect(b2.statusCode).toBe(429);
    expect((await bodyOf(b2)).error.message).toBe('Too many open event streams (3 for this server); close one first');

    a1.destroy();
    // The server learns of the close a moment later.
    let b3 = await openStream(port, '127.0.0.2');
    for (let tries = 0; b3.statusCode === 429 && tries < 40; tries++) {
      b3.resume();
      await new Promise((resolve) => setTimeout(resolve, 25));
      b3 = await openStream(port, '127.0.0.2');
    }
    expect(b3.statusCode).toBe(200);
    for (const stream of [a2, b1, b3]) stream.destroy();
  });
});
