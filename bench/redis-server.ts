import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// A throwaway redis-server for the BullMQ comparison: no persistence, loopback only, a free port,
// killed on stop. Installs Debian's redis-server with apt when it is not on PATH.

export interface RedisHandle {
  port: number;
  stop(): Promise<void>;
}

const INSTALL_TIMEOUT_MS = 5 * 60_000;
const READY_TIMEOUT_MS = 10_000;

function onPath(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface RunResult { code: number | null; output: string }

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: timeoutMs,
    });
    let output = '';
    const keep = (b: Buffer) => { output = (output + b.toString()).slice(-8000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => resolve({ code: -1, output: `${output}\n${err.message}` }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

const lastLines = (s: string, n = 3) => s.trim().split('\n').slice(-n).join(' | ');

// What apt says when its package lists are missing or older than the mirror.
const LISTS_MISSING = /Unable to locate package|has no installation candidate|Failed to fetch|404\s+Not Found|apt-get update/i;

async function installWithApt(): Promise<string> {
  if (onPath('apt-get') === undefined) throw new Error('redis-server is not on PATH and apt-get is not available to install it');
  if (process.getuid?.() !== 0) throw new Error('redis-server is not on PATH and installing it with apt-get needs root');
  console.log('redis-server not found: installing it with apt-get install -y --no-install-recommends redis-server ...');
  const t0 = performance.now();
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], INSTALL_TIMEOUT_MS);
  let res = await install();
  if (res.code !== 0 && LISTS_MISSING.test(res.output)) {
    console.log('apt package lists missing or stale: running apt-get update first ...');
    const update = await run('apt-get', ['update'], INSTALL_TIMEOUT_MS);
    if (update.code !== 0) throw new Error(`apt-get update failed (exit ${update.code}): ${lastLines(update.output)}`);
    res = await install();
  }
  if (res.code !== 0) throw new Error(`apt-get install redis-server failed (exit ${res.code}): ${lastLines(res.output)}`);
  const bin = onPath('redis-server') ?? ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => {
    try { accessSync(p, constants.X_OK); return true; } catch { return false; }
  });
  if (bin === undefined) throw new Error('apt-get installed redis-server but no redis-server binary was found');
  console.log(`redis-server installed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** One raw RESP PING; resolves true on +PONG, false on anything else (refused, LOADING, timeout). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (b: Buffer) => {
      reply += b.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(bin: string): Promise<RedisHandle> {
  const port = await freePort();
  const child = spawn(bin, ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => { output = (output + b.toString()).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // Never leave it behind if the caller dies without calling stop().
  const killOnExit = () => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);

  let spawnError: Error | undefined;
  child.once('error', (err) => { spawnError = err; });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      process.off('exit', killOnExit);
      throw new Error(`redis-server exited before answering PING${spawnError ? `: ${spawnError.message}` : ''}: ${lastLines(output)}`);
    }
    if (await ping(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      process.off('exit', killOnExit);
      throw new Error(`redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms: ${lastLines(output)}`);
    }
    await new Promise((res) => setTimeout(res, 25));
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    stop() {
      stopping ??= (async () => {
        const gone = exited(child);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}

/**
 * Starts a private redis-server (installing it with apt-get when missing) on a free loopback port
 * and resolves once it answers PING. Throws an Error saying why when redis cannot be had.
 */
export async function startRedis(): Promise<{ port: number; stop(): Promise<void> }> {
  const bin = onPath('redis-server') ?? await installWithApt();
  // The free port is probed then released, so another process may take it first: try again.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(bin);
    } catch (err) {
      lastError = err;
      if (!/already in use|bind/i.test((err as Error).message)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
