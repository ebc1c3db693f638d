import { spawn } from 'node:child_process';
import path from 'node:path';
import { createLogger } from '../src/logging/logger.ts';
import type { Store } from '../src/ports/store.port.ts';
import { createParleyRuntime } from '../src/runtime/parley-runtime.ts';
import { testProvider } from '../test/support/runtime-harness.ts';
import type { HarnessOptions } from '../test/support/runtime-harness.ts';
import { testMedia } from '../test/support/test-media.ts';

export const logger = createLogger('silent');
export const gc = (globalThis as { gc?: () => void }).gc;
export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
export const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One result line; `verdict` undefined prints no verdict, null prints that the figure cannot be trusted. */
export const line = (label: string, value: string, verdict?: boolean | null) =>
  console.log(`${label.padEnd(58)} ${value.padStart(16)}${verdict === undefined ? '' : verdict === null ? '  UNRELIABLE' : verdict ? '  ok' : '  MISSED'}`);

/** Messages per second of `n` messages pushed through `work`. */
export async function rate(n: number, work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return n / ((performance.now() - t0) / 1000);
}

export async function runtimeOn(store: Store, extra: HarnessOptions = {}) {
  const provider = testProvider();
  const { processor = async (job) => ({ status: 'processed', text: `text of ${job.kind}` }), worker = {}, ...deps } = extra;
  const { concurrency = 8, ...workerOptions } = worker;
  const runtime = createParleyRuntime({
    store, providers: { test: provider.factory }, logger,
    media: testMedia(processor, { concurrency }),
    worker: { pollMs: 1000, leaseMs: 60_000, ...workerOptions },
    ...deps,
  });
  await runtime.start();
  return { runtime, provider };
}

export type BenchRuntime = Awaited<ReturnType<typeof runtimeOn>>;

export async function startBot(r: BenchRuntime, id: string) {
  await r.runtime.bots.create({ id, provider: 'test', settings: {}, desiredState: 'stopped' });
  await r.runtime.bots.start(id);
  while (r.runtime.bots.state(id) !== 'connected') await sleep(1);
}

/**
 * The bundled server in its own process, as mongod always is: its data stays out of this heap and
 * its BSON work off this thread.
 */
export async function storeOutsideThisHeap(): Promise<{ uri: string; stop(): void }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '../packages/mongo-wire-server/src/cli.ts'), '--port', '0']);
  const uri = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      const m = /listening on (mongodb:\/\/[^\s;]+)/.exec(b.toString());
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error('wire server exited')));
  });
  return { uri, stop: () => void child.kill() };
}
