import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
const API_KEY = 'bundled-store-restart-key';
const DATA_DIR = mkdtempSync(path.join(tmpdir(), 'parley-bundled-restart-'));

afterAll(() => rmSync(DATA_DIR, { recursive: true, force: true }));

interface Running {
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<NodeJS.Signals | number | null>;
  signal(signal: NodeJS.Signals): void;
}

/** `src/main.ts` offline (no MONGODB_URI, no mongod download), so it runs the bundled store in DATA_DIR. */
async function startOffline(): Promise<Running> {
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), DATA_DIR, PORT: '0', API_KEY, LOG_LEVEL: 'info', MONGODB_MEMORY_SERVER: 'off' },
  });
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while ((url = /Parley listening on (http:\/\/[^\s"]+) /.exec(out)?.[1]) === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Parley did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url, output: () => out, exited, signal: (s) => child.kill(s) };
}

function request(p: Running, method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(`${p.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('`npm start` offline, on the bundled store', () => {
  it('keeps its bots in DATA_DIR/bundled-store through a kill -9 and through a clean stop', async () => {
    const first = await startOffline();
    expect(first.output()).toContain(`data in ${path.join(DATA_DIR, 'bundled-store')} (journal and snapshot)`);
    expect((await request(first, 'POST', '/v1/bots', { id: 'survives-kill', provider: 'simulator' })).status).toBe(201);
    first.signal('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = await startOffline();
    expect((await request(second, 'GET', '/v1/bots/survives-kill')).status).toBe(200);
    expect((await request(second, 'POST', '/v1/bots', { id: 'survives-stop', provider: 'simulator' })).status).toBe(201);
    second.signal('SIGTERM');
    expect(await second.exited).toBe(0);

    const third = await startOffline();
    try {
      for (const id of ['survives-kill', 'survives-stop']) expect((await request(third, 'GET', `/v1/bots/${id}`)).status).toBe(200);
    } finally {
      third.signal('SIGTERM');
      await third.exited;
    }
  }, 120_000);
});
