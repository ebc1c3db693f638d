import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/wait-for.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
const WITHOUT_DEVELOPMENT_STORES = pathToFileURL(path.resolve(import.meta.dirname, '../support/without-development-stores.ts')).href;

interface Started {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startParley(env: Record<string, string>): Started {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), DATA_DIR: mkdtempSync(path.join(tmpdir(), 'parley-')), ...env },
  });
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function storeEnv(): Record<string, string> {
  return inject('mongoKind') === 'external' ? { MONGODB_URI: inject('mongoUri') } : {};
}

describe('the parley process', () => {
  it('starts on embedded defaults, names its store, serves health, metrics and /v1 with the printed key, and stops on SIGTERM within 5 s', async () => {
    const p = startParley({ PORT: '0', LOG_LEVEL: 'info', ...storeEnv() });
    const url = await waitFor(() => /Parley listening on (http:\/\/[^\s"]+) /.exec(p.stdout())?.[1], 30_000);
    expect(p.stdout()).toMatch(/"msg":"store: /);
    if (inject('mongoKind') === 'bundled') {
      expect(p.stdout()).toMatch(/bundled MongoDB-wire-compatible store .*data in \S+bundled-store \(journal and snapshot\): a clean stop keeps everything, a kill -9 of the process loses no acknowledged write/);
    }
    expect(p.stdout()).toMatch(/No API_KEY set: generated one for this run/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const key = /API_KEY=(\S+)/.exec(p.stdout())?.[1];
    expect((await fetch(`${url}/v1/bots`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await fetch(`${url}/v1/bots`)).status).toBe(401);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^parley_bots\{state="connected"\} 0$/m);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(p.stdout()).toMatch(/"msg":"stopped"/);
  }, 60_000);

  it('run by `npm start`, stops when npm is sent SIGTERM (as a process manager does) and frees its port within the shutdown bound', async () => {
    let out = '';
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), DATA_DIR: mkdtempSync(path.join(tmpdir(), 'parley-')), PORT: '0', LOG_LEVEL: 'info', API_KEY: 'npm-start-signal-key', ...storeEnv() },
    });
    npm.stdout.on('data', (b: Buffer) => (out += b.toString()));
    npm.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));
    const url = await waitFor(() => /Parley listening on (http:\/\/[^\s"]+) /.exec(out)?.[1], 30_000);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const t0 = Date.now();
    npm.kill('SIGTERM');
    await exited;
    // The port is free once Parley itself is gone, not only npm.
    const free = await fetch(`${url}/healthz`).then(() => false, () => true);
    expect(free).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(out).toMatch(/"msg":"stopped"/);
  }, 60_000);

  it('without MONGODB_URI and without the development stores (a production install) refuses to start and names MONGODB_URI', async () => {
    const p = startParley({ PORT: '0', API_KEY: 'production-install-key', NODE_OPTIONS: `--import=${WITHOUT_DEVELOPMENT_STORES}` });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/STORE_UNAVAILABLE: No store available: set MONGODB_URI/);
    expect(p.stderr()).not.toMatch(/^\s+at /m);
  }, 30_000);

  it('refuses to start on invalid configuration and lists every problem', async () => {
    const p = startParley({ PORT: 'eighty', LOG_LEVEL: 'loud', MONGODB_URI: 'redis://x' });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/PORT must be an integer/);
    expect(p.stderr()).toMatch(/LOG_LEVEL must be one of/);
    expect(p.stderr()).toMatch(/MONGODB_URI must start with/);
  }, 30_000);
});
