import os from 'node:os';
import type { Store } from '../src/ports/store.port.ts';
import { measureBullmq } from './bullmq.bench.ts';
import type { BullmqFigures } from './bullmq.bench.ts';
import { startRedis } from './redis-server.ts';
import { gc, line, pct, runtimeOn, sleep, startBot } from './support.ts';

// DESIGN §10, media jobs against BullMQ on a local redis-server, both measured in this one run and
// compared as ratios: no-op jobs/s at concurrency 1 and 8 (Parley >= 0.25 x BullMQ), pickup p99
// (Parley <= BullMQ), and result -> placeholder finalized + listener p99 (< 10 ms).

const JOBS = 2000;
// 10 placeholders per conversation: far from a window's 100 messages and the pending-media ceiling.
const CORRESPONDENTS = 200;
const BULLMQ_JOBS = 5000;
const SAMPLES = 300;
// As the BullMQ side: a few samples dropped, a short gap between jobs.
const WARMUP_SAMPLES = 10;
const GAP_MS = 3;

// What one no-op job costs on each side, as the figures below count it.
const PARLEY_JOB = 'claim, snapshot catch-up, staged read, processor, completion write, placeholder finalized in history and window, listener, delivered write (acknowledging the finalize effect), release effect ack';
const BULLMQ_JOB = 'moveToActive, processor, moveToFinished (which also fetches the next job; removeOnComplete), completed event';

/** Calls into the store, per repository method, with their timings: who waits on what. */
interface StoreCall { readonly op: string; readonly id: string | null; readonly start: number; readonly end: number; readonly result: unknown }

/** The store with every call of the repositories the media path uses reported to `onCall`. */
function observed(store: Store, onCall: (call: StoreCall) => void): Store {
  const wrap = <T extends object>(repo: string, target: T): T =>
    Object.fromEntries(Object.entries(target).map(([name, fn]) => [name, typeof fn !== 'function' ? fn : async (...args: unknown[]) => {
      const start = performance.now();
      const result: unknown = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      const first = args[0];
      const id = typeof first === 'string' ? first : typeof first === 'object' && first !== null && typeof (first as { id?: unknown }).id === 'string' ? (first as { id: string }).id : null;
      onCall({ op: `${repo}.${name}`, id, start, end: performance.now(), result });
      return result;
    }])) as T;
  return { ...store, mediaJobs: wrap('mediaJobs', store.mediaJobs), history: wrap('history', store.history), actors: wrap('actors', store.actors) };
}

const correspondent = (c: number) => `4916${String(c).padStart(4, '0')}`;
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const p50p99 = (xs: number[]) => `${ms(pct(xs, 50))} / ${ms(pct(xs, 99))} ms`;

/** Deliveries of one drain, and the store calls it made. */
interface Drain {
  readonly jobs: number;
  /** First to last delivery, as the BullMQ side counts first to last completion. */
  readonly perSecond: number;
  /** Store calls per delivered job, and the commonest of them. */
  readonly callsPerJob: number;
  readonly topCalls: string;
}

/**
 * `JOBS` media messages come in through the provider while the pool's worker is stopped, so all
 * are pending; then the worker starts and deliveries (placeholder finalized, listener heard it)
 * are timed until the backlog is drained.
 */
async function parleyThroughput(store: Store, concurrency: number): Promise<Drain> {
  const botId = `media-c${concurrency}`;
  const calls = new Map<string, number>();
  const r = await runtimeOn(observed(store, (c) => void calls.set(c.op, (calls.get(c.op) ?? 0) + 1)), {
    worker: { concurrency },
    processor: async () => ({ status: 'processed', text: 'ok' }),
  });
  try {
    await r.runtime.mediaJobs.stop();
    await startBot(r, botId);
    const delivered: number[] = [];
    // Placeholders are never delivered: every delivery of the bot is a finalized media message.
    r.runtime.listeners.add((m) => void (m.botId === botId && delivered.push(performance.now())));
    await Promise.all(Array.from({ length: CORRESPONDENTS }, async (_, c) => {
      for (let i = c; i < JOBS; i += CORRESPONDENTS) await r.provider.media(botId, correspondent(c), 'voice');
    }));
    await r.runtime.history.flush(30_000);
    await r.runtime.conversations.flush();
    const pending = (await store.mediaJobs.countByState(botId)).pending ?? 0;
    if (pending !== JOBS) throw new Error(`media bench: ${pending} of ${JOBS} jobs pending before the drain`);

    calls.clear();
    gc?.();
    r.runtime.mediaJobs.start();
    const deadline = performance.now() + 120_000;
    while (delivered.length < JOBS && performance.now() < deadline) await sleep(2);
    await r.runtime.mediaJobs.stop();
    if (delivered.length < JOBS) throw new Error(`media bench: ${delivered.length} of ${JOBS} jobs delivered at concurrency ${concurrency} within 2 minutes`);
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    const top = [...calls].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([op, n]) => `${op} ${(n / delivered.length).toFixed(1)}`).join(', ');
    return {
      jobs: delivered.length,
      perSecond: (delivered.length - 1) / ((delivered.at(-1)! - delivered[0]!) / 1000),
      callsPerJob: total / delivered.length,
      topCalls: top,
    };
  } finally {
    await r.runtime.shutdown();
  }
}

interface Latency {
  pickup: number[];
  toFinal: number[];
  /** Pickup split at the store calls on its way, per job. */
  parts: Record<'insert' | 'untilClaim' | 'claim' | 'untilCatchUp' | 'catchUp' | 'untilProcessor', number[]>;
}

/**
 * One media message at a time into an idle pool of 8, as the BullMQ side adds one job at a time:
 * pickup from just before the job's row is inserted to the processor starting (BullMQ: from just
 * before queue.add), and from the processor's result to the placeholder finalized and the listener
 * called. The next message comes `GAP_MS` after the listener heard the previous one.
 */
async function parleyLatency(store: Store): Promise<Latency> {
  const botId = 'media-latency';
  type Marks = { insert?: [number, number]; claim?: [number, number]; catchUp?: [number, number]; processor?: number; result?: number };
  const jobs = new Map<string, Marks>();
  const marks = (id: string) => jobs.get(id) ?? jobs.set(id, {}).get(id)!;
  // A finalized message no longer names its job: the processor says which message is whose.
  const byMessage = new Map<string, string>();
  const r = await runtimeOn(observed(store, (c) => {
    if (c.op === 'mediaJobs.insert' && c.id !== null) marks(c.id).insert = [c.start, c.end];
    if (c.op === 'mediaJobs.claim' && c.result !== null) marks((c.result as { id: string }).id).claim = [c.start, c.end];
    if (c.op === 'mediaJobs.compareAndSet' && c.id !== null && jobs.get(c.id)?.claim !== undefined) marks(c.id).catchUp ??= [c.start, c.end];
  }), {
    worker: { concurrency: 8 },
    processor: async (job) => {
      marks(job.jobId).processor = performance.now();
      byMessage.set(`${job.correspondentId}|${job.messageId}`, job.jobId);
      const done = { status: 'processed' as const, text: 'transcript' };
      marks(job.jobId).result = performance.now();
      return done;
    },
  });
  const out: Latency = { pickup: [], toFinal: [], parts: { insert: [], untilClaim: [], claim: [], untilCatchUp: [], catchUp: [], untilProcessor: [] } };
  try {
    await startBot(r, botId);
    let heard: ((jobId: string, at: number) => void) | undefined;
    r.runtime.listeners.add((m) => {
      const jobId = m.botId === botId ? byMessage.get(`${m.correspondentId}|${m.messageId}`) : undefined;
      if (jobId !== undefined) heard?.(jobId, performance.now());
    });
    gc?.();
    for (let i = 0; i < WARMUP_SAMPLES + SAMPLES; i++) {
      const delivered = new Promise<[string, number]>((resolve) => { heard = (id, at) => resolve([id, at]); });
      await r.provider.media(botId, correspondent(i % 30), 'voice');
      let timer: NodeJS.Timeout | undefined;
      const [jobId, at] = await Promise.race([delivered, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('media bench: one job was not delivered within 10 s')), 10_000); })])
        .finally(() => clearTimeout(timer));
      const m = jobs.get(jobId);
      if (i >= WARMUP_SAMPLES && m?.insert && m.claim && m.catchUp && m.processor !== undefined && m.result !== undefined) {
        out.pickup.push(m.processor - m.insert[0]);
        out.toFinal.push(at - m.result);
        out.parts.insert.push(m.insert[1] - m.insert[0]);
        out.parts.untilClaim.push(m.claim[0] - m.insert[1]);
        out.parts.claim.push(m.claim[1] - m.claim[0]);
        out.parts.untilCatchUp.push(m.catchUp[0] - m.claim[1]);
        out.parts.catchUp.push(m.catchUp[1] - m.catchUp[0]);
        out.parts.untilProcessor.push(m.processor - m.catchUp[1]);
      }
      await sleep(GAP_MS);
    }
    return out;
  } finally {
    await r.runtime.shutdown();
  }
}

async function bullmq(): Promise<BullmqFigures | string> {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis();
  } catch (err) {
    return (err as Error).message;
  }
  try {
    return await measureBullmq(redis.port, { jobs: BULLMQ_JOBS, samples: SAMPLES });
  } catch (err) {
    return (err as Error).message;
  } finally {
    await redis.stop();
  }
}

interface ParleyFigures {
  readonly where: string;
  readonly c1: Drain;
  readonly c8: Drain;
  readonly latency: Latency;
}

async function measureParley(store: Store, where: string): Promise<ParleyFigures> {
  const c1 = await parleyThroughput(store, 1);
  const c8 = await parleyThroughput(store, 8);
  const latency = await parleyLatency(store);
  return { where, c1, c8, latency };
}

const versus = (label: string, ratio: number, target: string, ok: boolean) => line(`  ${label} (${target})`, ratio < 0.01 ? ratio.toFixed(4) : ratio.toFixed(2), ok);

function report(p: ParleyFigures, bull: BullmqFigures | undefined): void {
  console.log(`\nParley on the ${p.where}:`);
  for (const [concurrency, drain, theirs] of [[1, p.c1, bull?.jobsPerSecC1], [8, p.c8, bull?.jobsPerSecC8]] as const) {
    line(`no-op jobs/s, concurrency ${concurrency}`, `${drain.perSecond.toFixed(0)} /s`);
    if (theirs !== undefined) versus('/ BullMQ', drain.perSecond / theirs, '>= 0.25', drain.perSecond / theirs >= 0.25);
    line(`  store calls per job (${drain.jobs} jobs)`, drain.callsPerJob.toFixed(1));
    console.log(`    ${drain.topCalls}`);
  }
  const { pickup, parts, toFinal } = p.latency;
  line('pickup p50 / p99, idle pool of 8', p50p99(pickup));
  line('  job insert (fair tag: 1 counter write; insertOne)', p50p99(parts.insert));
  line('  insert done -> claim sent', p50p99(parts.untilClaim));
  line('  claim (findOneAndUpdate)', p50p99(parts.claim));
  line('  claimed -> snapshot catch-up sent', p50p99(parts.untilCatchUp));
  line('  snapshot catch-up (compare-and-set)', p50p99(parts.catchUp));
  line('  caught up -> processor starts', p50p99(parts.untilProcessor));
  if (bull !== undefined) versus('p99 / BullMQ p99', pct(pickup, 99) / bull.pickupMs.p99, '<= 1.00', pct(pickup, 99) <= bull.pickupMs.p99);
  line('result -> placeholder final + listener p50 / p99 (< 10 ms)', p50p99(toFinal), pct(toFinal, 99) < 10);
}

/** A store apart from the stage's own, opened for this stage and closed after it. */
export interface OtherStore {
  readonly where: string;
  open(): Promise<{ store: Store; close(): Promise<void> }>;
}

/**
 * BullMQ on a private redis-server, then Parley's media jobs on `store` (described by `where`) and
 * on `also` when given, side by side in one run.
 */
export async function mediaVsBullmq(store: Store, where = 'store as selected', also?: OtherStore): Promise<void> {
  const t0 = performance.now();
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`media jobs vs BullMQ, no-op processors, one run (${os.cpus().length} CPUs, load average ${load()})`);
  console.log(`  a Parley job here: ${PARLEY_JOB}`);
  console.log(`  a BullMQ job here: ${BULLMQ_JOB}`);
  // BullMQ first, while this process holds little: its client shares the process with the bundled store.
  gc?.();
  const b = await bullmq();
  const bull = typeof b === 'string' ? undefined : b;
  const parley = [await measureParley(store, where)];
  if (also !== undefined) {
    const other = await also.open();
    try {
      parley.push(await measureParley(other.store, also.where));
    } finally {
      await other.close();
    }
  }
  console.log('');
  if (bull === undefined) console.log(`BullMQ comparison skipped: ${b}`);
  else {
    console.log(`BullMQ on redis-server in its own process (${BULLMQ_JOBS} jobs per throughput run, ${SAMPLES} pickups):`);
    line('no-op jobs/s, concurrency 1', `${bull.jobsPerSecC1.toFixed(0)} /s`);
    line('no-op jobs/s, concurrency 8', `${bull.jobsPerSecC8.toFixed(0)} /s`);
    line('pickup p50 / p99, idle worker of 8', `${bull.pickupMs.p50.toFixed(2)} / ${bull.pickupMs.p99.toFixed(2)} ms`);
  }
  for (const p of parley) report(p, bull);
  console.log('');
  line('media stage wall time', `${((performance.now() - t0) / 1000).toFixed(1)} s`);
  line('load average (1, 5, 15 min) at its end', load());
}
