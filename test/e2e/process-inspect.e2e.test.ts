import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { WebSocket } from 'ws';
import { waitFor } from '../support/wait-for.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
const WEAK_KEY = 'parleyparleyparley';
const INSPECT_KEY = 'Zq3-vT8_pLm2RxW9nK4sYb7H';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Opens a bridge viewer; resolves with the socket once open, or the status it was refused with. */
function openViewer(port: number, key: string, origin: string): Promise<WebSocket | number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['parley-inspect', `parley-key.${Buffer.from(key).toString('base64url')}`], { origin });
  return new Promise((resolve) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
}

describe('the parley process with INSPECT=1', () => {
  it('warns about a weak key without printing it, serves the bridge on loopback with redacted events, exchanges /inspect?key= and throttles failed keys across /v1 and the bridge', async () => {
    const inspectPort = await freePort();
    let out = '';
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), DATA_DIR: mkdtempSync(path.join(tmpdir(), 'parley-')),
        PORT: '0', LOG_LEVEL: 'info', API_KEY: WEAK_KEY, INSPECT_KEY, INSPECT: '1', INSPECT_PORT: String(inspectPort), AUTH_FAILURE_LIMIT: '5',
        ...(inject('mongoKind') === 'external' ? { MONGODB_URI: inject('mongoUri') } : {}),
      },
    });
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await waitFor(() => /Parley listening on (http:\/\/[^\s"]+) /.exec(out)?.[1], 30_000);
      const warning = out.split('\n').find((line) => line.includes('API_KEY looks weak'));
      expect(warning).toMatch(/"level":40/);
      expect(warning).toContain('repeats a pattern');
      expect(out).not.toContain(WEAK_KEY);
      expect(out).not.toContain('INSPECT_KEY looks weak');
      expect(out).toContain(`Stately inspector bridge on http://127.0.0.1:${inspectPort}/`);

      expect(await openViewer(inspectPort, WEAK_KEY, 'https://evil.example')).toBe(403);
      const viewer = await openViewer(inspectPort, INSPECT_KEY, `http://127.0.0.1:${inspectPort}`);
      expect(viewer).toBeInstanceOf(WebSocket);
      const received: string[] = [];
      (viewer as WebSocket).on('message', (data: Buffer) => received.push(data.toString()));

      const auth = { authorization: `Bearer ${WEAK_KEY}`, 'content-type': 'application/json' };
      expect((await fetch(`${url}/v1/bots`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'bridge-bot', provider: 'simulator' }) })).status).toBe(201);
      expect((await fetch(`${url}/v1/bots/bridge-bot/start`, { method: 'POST', headers: auth, body: '{}' })).status).toBeLessThan(300);
      await waitFor(() => (received.some((m) => m.includes('bridge-bot')) ? true : undefined), 10_000);
      expect((await fetch(`${url}/v1/bots/bridge-bot/simulator/inbound`, { method: 'POST', headers: auth, body: JSON.stringify({ from: '15557654321', text: 'a private note' }) })).status).toBe(202);
      await waitFor(() => (received.some((m) => m.includes('message.text-received')) ? true : undefined), 10_000);
      expect(received.join('')).not.toContain('a private note');
      expect(received.join('')).not.toContain('15557654321');
      // The bridge's events did not stop the process: the old package path crashed it on the first actor.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      const exchange = await fetch(`${url}/inspect?key=${INSPECT_KEY}`, { redirect: 'manual' });
      expect(exchange.status).toBe(303);
      expect(exchange.headers.get('location')).toBe('/inspect');
      expect(exchange.headers.get('set-cookie')).toMatch(/^parley_inspect=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/inspect; Max-Age=43200$/);
      expect(out).not.toContain(INSPECT_KEY);

      for (let i = 0; i < 5; i++) expect((await fetch(`${url}/v1/bots`, { headers: { authorization: 'Bearer wrong-key-0000000000' } })).status).toBe(401);
      expect((await fetch(`${url}/v1/bots`, { headers: auth })).status).toBe(429);
      expect(await openViewer(inspectPort, INSPECT_KEY, `http://127.0.0.1:${inspectPort}`)).toBe(429);
      (viewer as WebSocket).terminate();
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
