import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { eventually } from '../support/runtime-harness.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
const EXIT_WITH_PARENT = path.resolve(import.meta.dirname, 'exit-with-parent.ts');
const API_KEY = `chaos-${randomBytes(16).toString('hex')}`;
/**
 * MEDIA_DIR of the processes given no DATA_DIR: one for every process this module starts, so
 * media staged before a kill is still there after the restart (as on a real disk), and not the
 * default ./data/media, which is relative to the working directory: the repository.
 */
let sharedMediaDir: string | undefined;

export interface ParleyProcess {
  /** Resolves with the signal that ended the process, or its exit code. */
  readonly exited: Promise<string | number | null>;
  /** An authenticated call; `signal` aborts it (a call to a frozen process never answers otherwise). */
  request(method: string, route: string, body?: unknown, signal?: AbortSignal): Promise<Response>;
  /**
   * A call on a connection of its own, closed after it. A pooled keep-alive connection may be one
   * the server is about to close as idle (at once, if it was frozen past its keep-alive timeout),
   * and a request written into it is then lost with a reset instead of being read.
   */
  requestOnNewConnection(method: string, route: string, body?: unknown): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>;
  json<T>(route: string): Promise<T>;
  waitForBot(id: string, state: string): Promise<void>;
  eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Ends the process the hard way: no shutdown hook runs, nothing is flushed. */
  kill(): void;
  /**
   * Freezes the process with SIGSTOP, as a long GC pause, a stalled VM or a laptop lid would: it
   * runs no timer and answers nothing, but its sockets and connections stay open.
   */
  pause(): void;
  /** Wakes a paused process with SIGCONT; its overdue timers fire at once. */
  resume(): void;
  /** Ends the process with SIGTERM if it still runs (woken first if paused, so it can shut down). */
  stop(): Promise<void>;
  /** Reads the history collection directly, for when the process is gone. */
  storedHistory(botId: string): Promise<{ providerMessageId: string | null }[]>;
  dropDatabase(): Promise<void>;
  /** The Prometheus exposition of `GET /metrics`. */
  metrics(): Promise<string>;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
}

/**
 * The store the process runs on, and any further environment (it overrides the defaults below).
 * Pass the same DATA_DIR to every life of one test to keep all its files across a kill, as a real
 * disk would (MEDIA_DIR is then DATA_DIR/media unless given); without it each process gets a
 * fresh DATA_DIR, and every process of the test file shares one temporary MEDIA_DIR.
 */
export interface ParleyEnv {
  readonly MONGODB_URI: string;
  readonly MONGODB_DB: string;
  readonly [name: string]: string;
}

/** Runs `src/main.ts` as its own process on the given store, as `npm start` would. */
export async function startParleyProcess(env: ParleyEnv, options: { readonly startTimeoutMs?: number } = {}): Promise<ParleyProcess> {
  let out = '';
  let err = '';
  const dataDir = env['DATA_DIR'] ?? mkdtempSync(path.join(tmpdir(), 'parley-chaos-'));
  const mediaDir = env['DATA_DIR'] === undefined ? (sharedMediaDir ??= mkdtempSync(path.join(tmpdir(), 'parley-chaos-media-'))) : path.join(dataDir, 'media');
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? tmpdir(),
      DATA_DIR: dataDir,
      MEDIA_DIR: mediaDir,
      PORT: '0',
      HOST: '127.0.0.1',
      // Each life compiles the same modules again: cached, a restart takes about half the time.
      NODE_COMPILE_CACHE: path.join(tmpdir(), 'parley-chaos-compile-cache'),
      API_KEY,
      LOG_LEVEL: 'info',
      // A burst of thousands of requests is the point here, not something to throttle.
      RATE_LIMIT_MAX: '1000000',
      // The job a killed process held is claimable again once its lease runs out.
      MEDIA_JOB_LEASE_MS: '2000',
      ...env,
    },
  });
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  let alive = true;
  let paused = false;
  const exited = new Promise<string | number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      alive = false;
      resolve(signal ?? code);
    }),
  );

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let url: string | undefined;
  while ((url = /Parley listening on (http:\/\/[^\s"]+)/.exec(out)?.[1]) === undefined) {
    if (!alive || Date.now() > deadline) {
      // Never left running behind a failed start: it would hold its port and leases.
      child.kill('SIGKILL');
      throw new Error(`Parley did not start:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const base = url;

  const self: ParleyProcess = {
    exited,
    request(method, route, body, signal) {
      return fetch(`${base}${route}`, {
        method,
        signal,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    requestOnNewConnection(method, route, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${base}${route}`, {
          method,
          agent: false,
          headers: { authorization: `Bearer ${API_KEY}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
        }, (res) => {
          let text = '';
          res.on('data', (b: Buffer) => (text += b.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
    async json<T>(route: string) {
      const res = await self.request('GET', route);
      if (res.status !== 200) throw new Error(`GET ${route} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as T;
    },
    async waitForBot(id, state) {
      await self.eventually(() => self.json<{ state: string }>(`/v1/bots/${id}`), (b) => b.state === state);
    },
    eventually: (probe, ok, timeoutMs = 20_000) => eventually(probe, ok, timeoutMs),
    kill() {
      child.kill('SIGKILL');
    },
    pause() {
      if (alive) child.kill('SIGSTOP');
      paused = alive;
    },
    resume() {
      if (alive) child.kill('SIGCONT');
      paused = false;
    },
    async stop() {
      if (alive) child.kill('SIGTERM');
      // A stopped process acts on SIGTERM only once it runs again.
      if (paused) self.resume();
      await exited;
    },
    async storedHistory(botId) {
      const client = await new MongoClient(env.MONGODB_URI).connect();
      try {
        return await client.db(env.MONGODB_DB).collection<{ providerMessageId: string | null }>('messages').find({ botId }).toArray();
      } finally {
        await client.close();
      }
    },
    async dropDatabase() {
      const client = await new MongoClient(env.MONGODB_URI).connect();
      try {
        await client.db(env.MONGODB_DB).dropDatabase();
      } finally {
        await client.close();
      }
    },
    async metrics() {
      const res = await fetch(`${base}/metrics`);
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${await res.text()}`);
      return res.text();
    },
    output: () => `${out}${err}`,
  };
  return self;
}
