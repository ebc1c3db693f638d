import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { selectMongo } from '../src/adapters/mongodb/store-selection.ts';
import { openMongoStore } from '../src/adapters/mongodb/mongo-store.ts';
import { createLogger } from '../src/logging/logger.ts';

// Store round-trip figures with the real driver, measured in one run on whichever store the
// selection picks. Figures are informational; targets in DESIGN §10 are checked as ratios.

async function rate(label: string, n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  const perSec = n / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(46)} ${perSec.toFixed(0).padStart(8)} ops/s  (n=${n})`);
  return perSec;
}

async function main(): Promise<void> {
  const mongo = await selectMongo({
    uri: process.env['MONGODB_URI'] || undefined,
    memoryServer: process.env['MONGODB_MEMORY_SERVER'] === 'off' ? 'off' : 'auto',
    logger: createLogger('silent'),
  });
  console.log(`store: ${mongo.description}\n`);
  const client = await new MongoClient(mongo.uri).connect();
  const dbName = `parley_bench_${randomUUID().slice(0, 8)}`;
  const db = client.db(dbName);
  const store = await openMongoStore({ uri: mongo.uri, dbName });
  try {
    const raw = db.collection<{ _id: string; i: number }>('raw');
    const insert = await rate('insertOne (raw driver)', 3000, (i) => raw.insertOne({ _id: `r${i}`, i }));
    const find = await rate('findOne by _id (raw driver)', 3000, (i) => raw.findOne({ _id: `r${i}` }));
    const batch = await rate('insertMany x100 (raw driver), per document', 30, (i) =>
      raw.insertMany(Array.from({ length: 100 }, (_, k) => ({ _id: `b${i}-${k}`, i: k }))),
    ).then((r) => r * 100);
    console.log(`${'  (per-document rate of the batch above)'.padEnd(46)} ${batch.toFixed(0).padStart(8)} docs/s`);

    const now = new Date();
    for (let i = 0; i < 10_000; i++) {
      await store.mediaJobs.insert(
        { id: `j${i}`, botId: `bot-${i % 100}`, line: null, lineSeq: null, correspondentId: 'c', messageId: i, kind: 'voice', mimetype: 'audio/ogg', mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null, machineVersion: 1, snapshot: {} },
        now,
      );
    }
    await rate('media job claim over 10,000 pending (repo)', 1000, () => store.mediaJobs.claim({ owner: 'bench', leaseMs: 60_000, now: new Date() }));
    await rate('actor compare-and-set (repo)', 2000, async (i) => {
      if (i === 0) await store.actors.insert({ id: 'a', kind: 'bot', botId: 'b', machineVersion: 1, state: 's0', snapshot: {} });
      await store.actors.compareAndSet('a', i + 1, { machineVersion: 1, state: `s${i}`, snapshot: { i } });
    });
    console.log(`\nfind-by-id / insertOne ratio: ${(find / insert).toFixed(2)}`);
  } finally {
    await db.dropDatabase();
    await client.close();
    await store.close();
    await mongo.close();
  }
}

await main();
