import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { pct, sleep } from './support.ts';

// The BullMQ side of the media-job comparison, against a redis-server on 127.0.0.1:<port> (see
// redis-server.ts). BullMQ's default settings throughout, except removeOnComplete so that the
// completed jobs do not pile up in redis memory.

export interface BullmqFigures {
  /** No-op jobs per second through one Worker at concurrency 1, first to last completion. */
  jobsPerSecC1: number;
  /** The same at concurrency 8. */
  jobsPerSecC8: number;
  /** From just before queue.add to the processor starting, one job at a time into an idle worker. */
  pickupMs: { p50: number; p99: number };
}

export interface BullmqBenchOptions {
  /** Jobs per throughput run. */
  jobs?: number;
  /** Recorded pickup samples (a few warm-up samples are taken first and dropped). */
  samples?: number;
}

const WARMUP_SAMPLES = 10;
const GAP_MS = 3;

const now = () => performance.timeOrigin + performance.now();

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`BullMQ bench: ${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** BullMQ 6 loads its redis client, ioredis, as an optional peer: say so plainly when it is absent. */
function requireIoredis(): void {
  try {
    createRequire(import.meta.url).resolve('ioredis');
  } catch {
    throw new Error("BullMQ 6 needs its optional peer 'ioredis', which is not installed (npm install -D ioredis)");
  }
}

const queueName = (what: string) => `parley-bench-${what}-${randomUUID().slice(0, 8)}`;

async function noopThroughput(port: number, concurrency: number, jobs: number): Promise<number> {
  const connection = { host: '127.0.0.1', port };
  const name = queueName(`noop-c${concurrency}`);
  const queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: true } });
  let worker: Worker | undefined;
  try {
    for (let i = 0; i < jobs; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
    }
    let completed = 0;
    let first = 0;
    let last = 0;
    const allDone = new Promise<void>((resolve, reject) => {
      worker = new Worker(name, async () => undefined, { connection, concurrency });
      worker.on('completed', () => {
        const t = performance.now();
        if (completed === 0) first = t;
        if (++completed === jobs) {
          last = t;
          resolve();
        }
      });
      worker.on('failed', (_job, err) => reject(err));
      worker.on('error', reject);
    });
    await withTimeout(allDone, 60_000, `${jobs} no-op jobs at concurrency ${concurrency}`);
    return (jobs - 1) / ((last - first) / 1000);
  } finally {
    await worker?.close();
    await queue.close();
  }
}

async function pickupLatency(port: number, samples: number): Promise<number[]> {
  const connection = { host: '127.0.0.1', port };
  const name = queueName('pickup');
  const queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: true } });
  let picked: ((ms: number) => void) | undefined;
  const worker = new Worker(name, async (job: Job<{ t: number }>) => {
    picked?.(now() - job.data.t);
  }, { connection, concurrency: 8 });
  try {
    await worker.waitUntilReady();
    await queue.waitUntilReady();
    await sleep(100); // let the worker settle into its blocking wait
    const out: number[] = [];
    for (let i = 0; i < WARMUP_SAMPLES + samples; i++) {
      const got = new Promise<number>((resolve) => { picked = resolve; });
      await queue.add('pickup', { t: now() });
      const ms = await withTimeout(got, 10_000, 'pickup of one job');
      if (i >= WARMUP_SAMPLES) out.push(ms);
      await sleep(GAP_MS);
    }
    return out;
  } finally {
    await worker.close();
    await queue.close();
  }
}

/** Measures BullMQ against the redis-server on 127.0.0.1:`port`. Throws if BullMQ cannot run. */
export async function measureBullmq(port: number, opts: BullmqBenchOptions = {}): Promise<BullmqFigures> {
  requireIoredis();
  const jobs = opts.jobs ?? 5000;
  const samples = opts.samples ?? 300;
  const jobsPerSecC1 = await noopThroughput(port, 1, jobs);
  const jobsPerSecC8 = await noopThroughput(port, 8, jobs);
  const pickups = await pickupLatency(port, samples);
  return { jobsPerSecC1, jobsPerSecC8, pickupMs: { p50: pct(pickups, 50), p99: pct(pickups, 99) } };
}
