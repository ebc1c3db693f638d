import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { openMongoStore } from '../src/adapters/mongodb/mongo-store.ts';
import { selectMongo } from '../src/adapters/mongodb/store-selection.ts';
import type { Store } from '../src/ports/store.port.ts';
import { inboundRatio } from './inbound-ratio.ts';
import { memory } from './memory.ts';
import { restart } from './restart.ts';
import { line, logger, pct, runtimeOn, sleep, startBot, storeOutsideThisHeap } from './support.ts';

// DESIGN §10 targets, each measured as a ratio or percentile within this one run. Stage names given
// as arguments (`inbound media restart memory`) run only those.
const only = process.argv.slice(2);
const selected = (name: string) => only.length === 0 || only.includes(name);

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
    await sleep(2);
  }
  while (toFinal.length < 300) await sleep(10);
  // DESIGN §10: pickup no slower than BullMQ on Redis on this machine (3-4 ms p99), finalization under 10 ms.
  line('media pickup after arrival p50 / p99 (p99 <= 4 ms)', `${pct(pickup, 50).toFixed(1)} / ${pct(pickup, 99).toFixed(1)} ms`, pct(pickup, 99) <= 4);
  line('result -> placeholder final + listener p50 / p99 (< 10 ms)', `${pct(toFinal, 50).toFixed(1)} / ${pct(toFinal, 99).toFixed(1)} ms`, pct(toFinal, 99) < 10);
  await r.runtime.shutdown();
}

const mongo = await selectMongo({ uri: process.env['MONGODB_URI'] || undefined, memoryServer: process.env['MONGODB_MEMORY_SERVER'] === 'off' ? 'off' : 'auto', logger });
console.log(`store: ${mongo.description}\n`);
const client = await new MongoClient(mongo.uri).connect();
try {
  const stages: [string, (store: Store, db: Db) => Promise<void>][] = [
    ['inbound', (store, db) => inboundRatio(store, db, mongo.kind === 'bundled' ? 'bundled store in this process, sharing its thread' : 'store as selected')],
    ['media', mediaLatency],
    ['restart', restart],
    ['memory', (store) => memory(store, mongo.kind === 'bundled')],
  ];
  for (const [name, run] of stages) {
    if (!selected(name)) continue;
    const dbName = `parley_bench_${name}_${randomUUID().slice(0, 6)}`;
    const store = await openMongoStore({ uri: mongo.uri, dbName });
    try {
      await run(store, client.db(dbName));
    } finally {
      await client.db(dbName).dropDatabase();
      await store.close();
    }
  }
  if (mongo.kind === 'bundled' && selected('inbound')) {
    // Production never shares Parley's thread with its database; measured the same way, as mongod runs.
    const outside = await storeOutsideThisHeap();
    const outsideClient = await new MongoClient(outside.uri).connect();
    const store = await openMongoStore({ uri: outside.uri, dbName: 'parley_bench_inbound_outside' });
    try {
      console.log('');
      await inboundRatio(store, outsideClient.db('parley_bench_inbound_outside'), 'bundled store in its own process');
    } finally {
      await store.close();
      await outsideClient.close();
      outside.stop();
    }
  }
} finally {
  await client.close();
  await mongo.close();
}
