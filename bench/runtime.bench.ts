import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { openMongoStore } from '../src/adapters/mongodb/mongo-store.ts';
import { selectMongo } from '../src/adapters/mongodb/store-selection.ts';
import type { Store } from '../src/ports/store.port.ts';
import { inboundRatio } from './inbound-ratio.ts';
import { mediaVsBullmq } from './media.bench.ts';
import type { OtherStore } from './media.bench.ts';
import { memory } from './memory.ts';
import { restart } from './restart.ts';
import { logger, storeOutsideThisHeap } from './support.ts';

// DESIGN §10 targets, each measured as a ratio or percentile within this one run. Stage names given
// as arguments (`inbound media restart memory`) run only those.
const only = process.argv.slice(2);
const selected = (name: string) => only.length === 0 || only.includes(name);

const mongo = await selectMongo({ uri: process.env['MONGODB_URI'] || undefined, memoryServer: process.env['MONGODB_MEMORY_SERVER'] === 'off' ? 'off' : 'auto', logger });
console.log(`store: ${mongo.description}\n`);
const client = await new MongoClient(mongo.uri).connect();
// As mongod and redis-server run: the bundled store in a process of its own, for the media stage.
const bundledApart: OtherStore = {
  where: 'bundled store in its own process',
  async open() {
    const outside = await storeOutsideThisHeap();
    const store = await openMongoStore({ uri: outside.uri, dbName: 'parley_bench_media_outside' });
    return { store, close: async () => { await store.close(); outside.stop(); } };
  },
};
try {
  const stages: [string, (store: Store, db: Db) => Promise<void>][] = [
    ['inbound', (store, db) => inboundRatio(store, db, mongo.kind === 'bundled' ? 'bundled store in this process, sharing its thread' : 'store as selected')],
    ['media', (store) => mediaVsBullmq(store, mongo.kind === 'bundled' ? 'bundled store in this process, sharing its thread' : 'store as selected', mongo.kind === 'bundled' ? bundledApart : undefined)],
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
