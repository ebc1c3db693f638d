import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDescriptors } from '../support/raw-http.ts';

/**
 * A bounded attack on a running Parley, as `npm start` runs it (bundled store, a fresh DATA_DIR):
 * long URLs, headers and bodies trickled a byte at a time, 22 MB bodies to unknown paths, a flood
 * of wrong keys and JSON nested 5,000 deep, all at once for ATTACK_MS, while a probe asks
 * /healthz every 100 ms and must be answered within PROBE_BOUND_MS every time (and within
 * PROBE_MEDIAN_BOUND_MS usually).
 */
const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
const API_KEY = 'attack-test-key-7f3a9c1e5b2d4068';
const ATTACK_MS = Number(process.env['ATTACK_MS'] ?? 12_000);
// The stalls this guards against last seconds (16 KB URLs once took 155 ms each to log); the bound
// leaves room for a machine shared with other work, the median shows the usual answer.
const PROBE_BOUND_MS = 1_000;
const PROBE_MEDIAN_BOUND_MS = 100;
// Short enough that connections trickling their headers or bodies are cut within the attack.
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 4_000;
// Node sweeps for overdue requests every second at most; the rest is scheduling under load.
const CUT_SLACK_MS = 2_000;

interface Exchange {
  /** Status of the first answer, null when none came. */
  readonly status: number | null;
  /** From connecting to the connection's end. */
  readonly ms: number;
}

/**
 * One connection: writes `head`, then `trickle` every `everyMs` (if given) until the server ends
 * the connection or `giveUpMs` passes. Only the first bytes of the answer are kept.
 */
function exchange(port: number, head: string | Buffer, options: { trickle?: string; everyMs?: number; giveUpMs?: number; from?: string } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ port, host: '127.0.0.1', ...(options.from === undefined ? {} : { localAddress: options.from }) });
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (answer.length < 64) answer += chunk.toString('latin1', 0, 64);
    });
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(head);
      if (options.trickle !== undefined) timer = setInterval(() => socket.writable && socket.write(options.trickle!), options.everyMs ?? 300);
    });
    const giveUp = setTimeout(() => socket.destroy(), options.giveUpMs ?? 20_000);
    socket.once('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      resolve({ status: match === null ? null : Number(match[1]), ms: Date.now() - started });
    });
  });
}

/**
 * Runs `once` again and again until `deadline`, each run starting at least `periodMs` after the
 * one before, keeping every outcome. Workers start spread over the first period.
 */
async function repeat(deadline: number, periodMs: number, once: () => Promise<Exchange>): Promise<Exchange[]> {
  const outcomes: Exchange[] = [];
  await pause(Math.random() * periodMs);
  while (Date.now() < deadline) {
    const started = Date.now();
    outcomes.push(await once());
    await pause(periodMs - (Date.now() - started));
  }
  return outcomes;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function workers(count: number, periodMs: number, deadline: number, once: () => Promise<Exchange>): Promise<Exchange[]> {
  return Promise.all(Array.from({ length: count }, () => repeat(deadline, periodMs, once))).then((all) => all.flat());
}

const nested = (depth: number, leaf: string): string => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

/** CPU time the process has used, in ms (user and system). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function residentMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
}

describe('a bounded attack on a running Parley', () => {
  let child: ChildProcessWithoutNullStreams;
  let port: number;
  let dataDir: string;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'parley-attack-'));
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? tmpdir(),
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        API_KEY,
        MONGODB_MEMORY_SERVER: 'off',
        // At info the request log prints (masked) every URL, as in production.
        LOG_LEVEL: 'info',
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      },
    });
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    // The log is read only up to the line that names the address; after that it is drained unread.
    let head = '';
    port = await new Promise<number>((resolve, reject) => {
      const fail = setTimeout(() => reject(new Error(`Parley did not start:\n${head}`)), 30_000);
      const onData = (chunk: Buffer): void => {
        head += chunk.toString();
        const found = /Parley listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(head);
        if (found === null) return;
        clearTimeout(fail);
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(Number(found[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (head += chunk.toString()));
    });
  }, 40_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps answering /healthz within its bound, cuts every slow client within its timeout, and ends with the descriptors it began with', async () => {
    const baselineFds = openDescriptors(child.pid!);
    const baselineMb = residentMb(child.pid!);
    const baselineCpu = cpuMs(child.pid!);
    const ownCpu = process.cpuUsage();
    const deadline = Date.now() + ATTACK_MS;
    const key = `Authorization: Bearer ${API_KEY}\r\n`;
    const wrongKey = 'Authorization: Bearer not-the-key-0123456789abcdef\r\n';
    const post = (url: string, length: number, auth = '') => `POST ${url} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

    const longUrl = `GET /healthz?${'?'.repeat(16_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    const longQuery = `GET /v1/bots?${'a=&'.repeat(5_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    const bigUnknown = Buffer.concat([Buffer.from(post('/upload', 22_000_000)), Buffer.alloc(64 * 1024, 0x20)]);
    const deepSettings = `{"id":"deep-bot","provider":"simulator","media":${nested(5_000, '1')}}`;
    const deepMessage = `{"to":"1555","text":"hi","extra":${nested(5_000, '1')}}`;

    let probesDone = false;
    const probes: Exchange[] = [];
    const samples: { fds: number; mb: number }[] = [];
    const probing = (async () => {
      while (!probesDone) {
        probes.push(await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { giveUpMs: 5_000 }));
        samples.push({ fds: openDescriptors(child.pid!), mb: residentMb(child.pid!) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // Keys are throttled per client address: the wrong keys come from 127.0.0.1, the operator's
    // deep JSON from 127.0.0.3, so that it is parsed rather than refused for its neighbour's sake.
    const [longUrls, trickledHeaders, trickledBodies, bigBodies, wrongKeys, deepJson] = await Promise.all([
      workers(16, 50, deadline, () => exchange(port, Math.random() < 0.5 ? longUrl : longQuery, { from: '127.0.0.2' })),
      // Unauthenticated slowloris: headers that never end.
      workers(150, 0, deadline, () => exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', { trickle: 'a', everyMs: 300 })),
      // Bodies that never end: unauthenticated (refused at once, then tried again) and with the key.
      workers(20, 100, deadline, () => exchange(port, `${post('/v1/bots', 1_000_000)}{`, { trickle: ' ', everyMs: 300 })),
      workers(20, 0, deadline, () => exchange(port, `${post('/v1/bots', 1_000_000, key)}{`, { trickle: ' ', everyMs: 300, from: '127.0.0.4' })),
      workers(4, 0, deadline, () => exchange(port, bigUnknown)),
      workers(4, 0, deadline, () => exchange(port, `GET /v1/bots HTTP/1.1\r\nHost: x\r\n${wrongKey}Connection: close\r\n\r\n`)),
      workers(2, 0, deadline, () => {
        const [url, body] = Math.random() < 0.5 ? ['/v1/bots', deepSettings] : ['/v1/bots/deep-bot/messages', deepMessage];
        return exchange(port, `${post(url, Buffer.byteLength(body), key)}${body}`.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'), { from: '127.0.0.3' });
      }),
    ]).then(([urls, headers, anonymousBodies, keyedBodies, ...rest]) => [urls, headers, [...anonymousBodies, ...keyedBodies], ...rest] as const);
    // Once the attack stops, whatever it left open is cut within the headers timeout.
    await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS + CUT_SLACK_MS));
    probesDone = true;
    await probing;
    const endFds = openDescriptors(child.pid!);
    const serverCpuMs = cpuMs(child.pid!) - baselineCpu;
    const clientCpu = process.cpuUsage(ownCpu);

    const slowest = (outcomes: readonly Exchange[]) => Math.max(...outcomes.map((o) => o.ms));
    const percentile = (outcomes: readonly Exchange[], p: number) => outcomes.map((o) => o.ms).sort((a, b) => a - b)[Math.floor((outcomes.length - 1) * p)];
    const statuses = (outcomes: readonly Exchange[]) => [...new Set(outcomes.map((o) => o.status))].sort();
    const report = {
      probes: { count: probes.length, medianMs: percentile(probes, 0.5), p90Ms: percentile(probes, 0.9), slowestMs: slowest(probes), statuses: statuses(probes) },
      longUrls: { count: longUrls.length, slowestMs: slowest(longUrls), statuses: statuses(longUrls) },
      trickledHeaders: { count: trickledHeaders.length, longestMs: slowest(trickledHeaders), statuses: statuses(trickledHeaders) },
      trickledBodies: { count: trickledBodies.length, longestMs: slowest(trickledBodies), statuses: statuses(trickledBodies) },
      bigBodies: { count: bigBodies.length, slowestMs: slowest(bigBodies), statuses: statuses(bigBodies) },
      wrongKeys: { count: wrongKeys.length, slowestMs: slowest(wrongKeys), statuses: statuses(wrongKeys) },
      deepJson: { count: deepJson.length, slowestMs: slowest(deepJson), statuses: statuses(deepJson) },
      descriptors: { baseline: baselineFds, peak: Math.max(...samples.map((s) => s.fds)), end: endFds },
      residentMb: { baseline: baselineMb, peak: Math.max(...samples.map((s) => s.mb)) },
      cpuMs: { server: Math.round(serverCpuMs), client: Math.round((clientCpu.user + clientCpu.system) / 1000) },
    };
    process.stdout.write(`[attack] ${JSON.stringify(report)}\n`);

    expect(child.exitCode).toBeNull();
    expect(report.probes.count).toBeGreaterThan(ATTACK_MS / 1_000);
    expect(report.probes.statuses).toEqual([200]);
    expect(report.probes.slowestMs).toBeLessThan(PROBE_BOUND_MS);
    expect(report.probes.medianMs).toBeLessThan(PROBE_MEDIAN_BOUND_MS);
    expect(report.longUrls.statuses.every((s) => s !== null && s < 500)).toBe(true);
    // A trickled request lives at most its timeout: the headers one, or the request one for a body.
    expect(report.trickledHeaders.longestMs).toBeLessThan(HEADERS_TIMEOUT_MS + CUT_SLACK_MS);
    expect(report.trickledBodies.longestMs).toBeLessThan(REQUEST_TIMEOUT_MS + CUT_SLACK_MS);
    expect(report.bigBodies.statuses).toEqual([404]);
    expect(report.bigBodies.slowestMs).toBeLessThan(PROBE_BOUND_MS);
    expect(report.wrongKeys.statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(report.deepJson.statuses.every((s) => s !== null && s < 500)).toBe(true);
    // At most the attack's own 200-odd connections at a time, none left behind.
    expect(report.descriptors.peak).toBeLessThan(baselineFds + 300);
    expect(report.descriptors.end).toBeLessThan(baselineFds + 20);
  }, ATTACK_MS + 30_000);
});
