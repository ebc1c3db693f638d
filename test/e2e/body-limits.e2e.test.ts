import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BODY_LIMIT } from '../../src/http/app.ts';
import { openRaw, statusOf, within } from '../support/raw-http.ts';
import type { RawClient } from '../support/raw-http.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { AUTH, runningBot, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}

const MiB = 1024 * 1024;
const bodyOf = (text: string): ErrorJson => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as ErrorJson;

/** A simulated inbound image whose JSON body is `bytes` long. */
function mediaBody(bytes: number): Buffer {
  const head = '{"from":"1555","media":{"kind":"image","mimetype":"image/png","dataBase64":"';
  const tail = '"}}';
  // Whole base64 quanta; the bytes left over are JSON whitespace.
  const data = (bytes - head.length - tail.length) & ~3;
  return Buffer.from(head + 'A'.repeat(data) + tail + ' '.repeat(bytes - head.length - data - tail.length));
}

function postHead(path: string, length: number, auth = true): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth ? `Authorization: ${AUTH.authorization}\r\n` : ''}Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
}

// With the default limits: 1 MiB on ordinary routes, 25 MiB on the media route, 4 large bodies at once.
describe('body limits', () => {
  let t: TestStore;
  let api: Api;
  let port: number;
  beforeAll(async () => {
    t = await openTestStore('parley_body_limits');
    api = await startApi(t.store);
    await runningBot(api, 'bot-media');
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (api.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  it('refuses a body over 1 MiB on an ordinary route with 413 PAYLOAD_TOO_LARGE', async () => {
    expect(DEFAULT_BODY_LIMIT).toBe(MiB);
    const res = await api.request('POST', '/v1/bots/bot-media/messages', { to: '1555', text: 'x'.repeat(MiB) });
    expect(res.statusCode).toBe(413);
    expect(res.json<ErrorJson>().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('takes 2 MiB of media on the simulator route, and refuses more than 25 MiB there', async () => {
    const fits = await api.app.inject({ method: 'POST', url: '/v1/bots/bot-media/simulator/inbound', headers: { ...AUTH, 'content-type': 'application/json' }, payload: mediaBody(2 * MiB) });
    expect(fits.statusCode).toBe(202);
    const client = await openRaw(port);
    client.write(postHead('/v1/bots/bot-media/simulator/inbound', 25 * MiB + 1));
    expect(await within(1_000, () => statusOf(client.received()) !== null)).toBe(true);
    expect(statusOf(client.received())).toBe(413);
    expect(await within(1_000, client.isClosed)).toBe(true);
  });

  it.each([
    ['an unknown path', '/wp-admin/upload', false],
    ['an unknown path under /v1, with the key', '/v1/upload', true],
  ])('answers a 22 MB body to %s with 404 at once, without reading it, and closes the connection', async (_label, path, auth) => {
    const client = await openRaw(port);
    client.write(postHead(path, 22_000_000, auth));
    client.write(Buffer.alloc(64 * 1024, 0x20));
    expect(await within(500, () => client.isClosed())).toBe(true);
    expect(statusOf(client.received())).toBe(404);
    expect(bodyOf(client.received()).error.code).toBe('NOT_FOUND');
    expect(client.received()).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('receives at most 4 large bodies at once: of 16 concurrent 25 MB uploads, 12 are refused with 429 before their body is read', async () => {
    const uploads: RawClient[] = await Promise.all(Array.from({ length: 16 }, () => openRaw(port)));
    const body = mediaBody(25 * MiB);
    for (const upload of uploads) {
      upload.write(postHead('/v1/bots/ghost/simulator/inbound', body.length));
      upload.write(body.subarray(0, 64 * 1024));
    }
    const refused = () => uploads.filter((upload) => statusOf(upload.received()) === 429);
    expect(await within(2_000, () => refused().length === 12)).toBe(true);
    for (const upload of refused()) {
      expect(bodyOf(upload.received()).error.code).toBe('TOO_MANY_LARGE_BODIES');
      expect(await within(1_000, upload.isClosed)).toBe(true);
    }
    // The four admitted ones are still waiting for their bodies; once sent, they are answered.
    const admitted = uploads.filter((upload) => statusOf(upload.received()) === null);
    expect(admitted).toHaveLength(4);
    for (const upload of admitted) upload.write(body.subarray(64 * 1024));
    expect(await within(10_000, () => admitted.every((upload) => statusOf(upload.received()) !== null))).toBe(true);
    expect(admitted.map((upload) => statusOf(upload.received()))).toEqual([404, 404, 404, 404]);
    admitted.forEach((upload) => upload.socket.destroy());
    // Their slots are free again.
    const next = await api.app.inject({ method: 'POST', url: '/v1/bots/ghost/simulator/inbound', headers: { ...AUTH, 'content-type': 'application/json' }, payload: mediaBody(2 * MiB) });
    expect(next.statusCode).toBe(404);
  }, 30_000);
});
