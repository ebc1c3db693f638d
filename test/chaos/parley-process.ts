import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { eventually } from '../support/runtime-harness.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
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
  request(method: string, route: string, body?: unknown): Promise<Response>;
  json<T>(route: string): Promise<T>;
  waitForBot(id: string, state: string): Promise<void>;
  eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Ends the process the hard way: no shutdown hook runs, nothing is flushed. */
  kill(): void;
  /** Ends the process with SIGTERM if it still runs. */
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
export async function startParleyProcess(env: ParleyEnv): Promise<ParleyProcess> {
  let out = '';
  let err = '';
  const dataDir = env['DATA_DIR'] ?? mkdtempSync(path.join(tmpdir(), 'parley-chaos-'));
  const mediaDir = env['DATA_DIR'] === undefined ? (sharedMediaDir ??= mkdtempSync(path.join(tmpdir(), 'parley-chaos-media-'))) : path.join(dataDir, 'media');
  const child = spawn(process.execPath, [MAIN], {
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
  const exited = new Promise<string | number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      alive = false;
      resolve(signal ?? code);
    }),
  );

  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while ((url = /Parley listening on (http:\/\/[^\s"]+)/.exec(out)?.[1]) === undefined) {
    if (!alive || Date.now() > deadline) throw new Error(`Parley did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const base = url;

  const self: ParleyProcess = {
    exited,
    request(method, route, body) {
      return fetch(`${base}${route}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
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
    async stop() {
      if (alive) child.kill('SIGTERM');
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
