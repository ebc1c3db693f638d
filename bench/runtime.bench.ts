import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { openMongoStore } from '../src/adapters/mongodb/mongo-store.ts';
import { selectMongo } from '../src/adapters/mongodb/store-selection.ts';
import { createLogger } from '../src/logging/logger.ts';
import type { Store } from '../src/ports/store.port.ts';
import { createParleyRuntime } from '../src/runtime/parley-runtime.ts';
import type { RuntimeDeps } from '../src/runtime/parley-runtime.ts';
import { testProvider } from '../test/support/runtime-harness.ts';

// DESIGN §10 targets, each measured as a ratio or percentile within this one run.
const logger = createLogger('silent');
const gc = (globalThis as { gc?: () => void }).gc;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const line = (label: string, value: string, verdict?: boolean) =>
  console.log(`${label.padEnd(58)} ${value.padStart(16)}${verdict === undefined ? '' : verdict ? '  ok' : '  MISSED'}`);

async function runtimeOn(store: Store, extra: Partial<RuntimeDeps> = {}) {
  const provider = testProvider();
  const runtime = createParleyRuntime({
    store, providers: { test: provider.factory }, logger,
    processor: async (job) => ({ status: 'processed', text: `text of ${job.kind}` }),
    worker: { pollMs: 1000, leaseMs: 60_000, concurrency: 8 },
    ...extra,
  });
  await runtime.start();
  return { runtime, provider };
}

async function startBot(r: Awaited<ReturnType<typeof runtimeOn>>, id: string) {
  await r.runtime.bots.create({ id, provider: 'test', settings: {}, desiredState: 'stopped' });
  await r.runtime.bots.start(id);
  while (r.runtime.bots.state(id) !== 'connected') await new Promise((res) => setTimeout(res, 1));
}

async function inboundRatio(store: Store, db: ReturnType<MongoClient['db']>) {
  const conversations = 20;
  const perConversation = 100;
  const raw = db.collection('raw_history');
  let t0 = performance.now();
  await Promise.all(Array.from({ length: conversations }, async (_, c) => {
    for (let i = 0; i < perConversation; i++) {
      await raw.insertOne({ _id: `${c}|${i}` as never, botId: 'raw', correspondentId: `c${c}`, seq: i, content: `message ${i}`, acceptedAt: new Date() });
    }
  }));
  const rawRate = (conversations * perConversation) / ((performance.now() - t0) / 1000);

  const r = await runtimeOn(store);
  await startBot(r, 'inbound');
  const before = { ...r.runtime.stats };
  t0 = performance.now();
  await Promise.all(Array.from({ length: conversations }, async (_, c) => {
    for (let i = 0; i < perConversation; i++) await r.provider.text('inbound', `49155${c}`, `message ${i}`);
  }));
  const pipeRate = (conversations * perConversation) / ((performance.now() - t0) / 1000);
  await r.runtime.conversations.flush();
  const n = conversations * perConversation;
  line('raw insertOne into history-like docs (20 writers)', `${rawRate.toFixed(0)} /s`);
  line('inbound text: provider -> queue actor -> history', `${pipeRate.toFixed(0)} /s`);
  line('  ratio to raw insert rate (target >= 0.50)', (pipeRate / rawRate).toFixed(2), pipeRate / rawRate >= 0.5);
  line('  queue snapshot writes per inbound message', ((r.runtime.stats.writes - before.writes) / n).toFixed(2));
  line('  queue snapshot bytes per inbound message', ((r.runtime.stats.bytes - before.bytes) / n).toFixed(0));
  line('  history rows per batch (group commit)', (r.runtime.history.stats.rows / Math.max(1, r.runtime.history.stats.batches)).toFixed(1));
  await r.runtime.shutdown();
}

async function mediaLatency(store: Store) {
  const pickup: number[] = [];
  const finished = new Map<string, number>();
  const toFinal: number[] = [];
  const r = await runtimeOn(store, {
    hooks: { onClaim: (_job, ms) => void pickup.push(ms) },
    processor: async (job) => {
      finished.set(`${job.correspondentId}|${job.messageId}`, performance.now());
      return { status: 'processed', text: 'transcript' };
    },
  });
  r.runtime.listeners.add((m) => {
    const t = finished.get(`${m.correspondentId}|${m.messageId}`);
    if (t !== undefined) toFinal.push(performance.now() - t);
  });
  await startBot(r, 'media');
  for (let i = 0; i < 300; i++) {
    await r.provider.media('media', `4915${i % 30}`, 'voice');
    await new Promise((res) => setTimeout(res, 2));
  }
  while (toFinal.length < 300) await new Promise((res) => setTimeout(res, 10));
  line('media pickup after arrival p50 / p99 (target p99 < 100 ms)', `${pct(pickup, 50).toFixed(1)} / ${pct(pickup, 99).toFixed(1)} ms`, pct(pickup, 99) < 100);
  line('result -> placeholder final + listener p50 / p99 (< 50 ms)', `${pct(toFinal, 50).toFixed(1)} / ${pct(toFinal, 99).toFixed(1)} ms`, pct(toFinal, 99) < 50);
  await r.runtime.shutdown();
}

async function restart(store: Store) {
  const first = await runtimeOn(store, { worker: { pollMs: 600_000, concurrency: 1 } });
  for (let b = 0; b < 100; b++) await startBot(first, `restart-${b}`);
  first.runtime.halt();
  const jobs = first.runtime.jobs;
  for (let i = 0; i < 10_000; i++) {
    const botId = `restart-${i % 100}`;
    await jobs.create({ jobId: randomUUID(), botId, correspondentId: 'c', messageId: i + 1, kind: 'voice', caption: null, fileName: null, maxAttempts: 3 }, { mimetype: 'audio/ogg', mediaPath: null });
  }
  let firstClaim = 0;
  const t0 = performance.now();
  const second = await runtimeOn(store, {
    processor: () => new Promise(() => {}),
    hooks: { onClaim: () => void (firstClaim ||= performance.now()) },
  });
  const started = performance.now() - t0;
  while (firstClaim === 0) await new Promise((res) => setTimeout(res, 1));
  const connected = [...Array(100).keys()].filter((b) => second.runtime.bots.state(`restart-${b}`) !== 'stopped').length;
  line('restart, 100 bots + 10,000 open jobs: runtime restored', `${started.toFixed(0)} ms`);
  line('  first job claimed after restart (target < 5 s)', `${(firstClaim - t0).toFixed(0)} ms`, firstClaim - t0 < 5000);
  line('  bots back up', `${connected} / 100`);
  second.runtime.halt();
}

/** The bundled server keeps its data in this process's heap; memory is measured against one in a child. */
async function storeOutsideThisHeap(): Promise<{ uri: string; stop(): void }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '../src/wire-server/cli.ts'), '--port', '0']);
  const uri = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      const m = /listening on (\S+)/.exec(b.toString());
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error('wire server exited')));
  });
  return { uri, stop: () => void child.kill() };
}

async function memory(inProcessStore: Store) {
  if (gc === undefined) return line('memory (run with --expose-gc)', 'skipped');
  const external = mongo.kind === 'bundled' ? await storeOutsideThisHeap() : undefined;
  const store = external === undefined ? inProcessStore : await openMongoStore({ uri: external.uri, dbName: 'memory' });
  try {
    await measureMemory(store);
  } finally {
    if (external !== undefined) {
      await store.close();
      external.stop();
    }
  }
}

async function measureMemory(store: Store) {
  const r = await runtimeOn(store);
  gc?.();
  let base = process.memoryUsage().heapUsed;
  for (let b = 0; b < 300; b++) await r.runtime.bots.create({ id: `idle-${b}`, provider: 'test', settings: {}, desiredState: 'stopped' });
  gc?.();
  const perBot = (process.memoryUsage().heapUsed - base) / 300;
  line('memory per idle bot, no provider socket (< 200 KB)', `${(perBot / 1024).toFixed(1)} KB`, perBot < 200 * 1024);
  await startBot(r, 'mem');
  gc?.();
  base = process.memoryUsage().heapUsed;
  let text = 0;
  for (let c = 0; c < 50; c++) {
    for (let i = 0; i < 100; i++) {
      const body = `message number ${i} in conversation ${c}`;
      text += body.length; // V8 keeps ASCII strings one byte per character
      await r.provider.text('mem', `4916${c}`, body);
    }
  }
  await r.runtime.conversations.flush();
  gc?.();
  const perQueue = (process.memoryUsage().heapUsed - base - text) / 50;
  line('memory per 100-message queue beyond its text (< 50 KB)', `${(perQueue / 1024).toFixed(1)} KB`, perQueue < 50 * 1024);
  await r.runtime.shutdown();
}

const mongo = await selectMongo({ uri: process.env['MONGODB_URI'] || undefined, memoryServer: process.env['MONGODB_MEMORY_SERVER'] === 'off' ? 'off' : 'auto', logger });
console.log(`store: ${mongo.description}\n`);
const client = await new MongoClient(mongo.uri).connect();
try {
  for (const [name, run] of [['inbound', inboundRatio], ['media', mediaLatency], ['restart', restart], ['memory', memory]] as const) {
    const dbName = `parley_bench_${name}_${randomUUID().slice(0, 6)}`;
    const store = await openMongoStore({ uri: mongo.uri, dbName });
    try {
      await run(store, client.db(dbName));
    } finally {
      await client.db(dbName).dropDatabase();
      await store.close();
    }
  }
} finally {
  await client.close();
  await mongo.close();
}
