/**
 * Round-trip throughput of the wire server through the official driver.
 * Run with: npm run bench -w @parley/mongo-wire-server [-- iterations] [--persist]
 * `--persist` runs the server with a data directory (journal and snapshot) in a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, type ObjectId } from 'mongodb';
import { startWireServer } from '../src/index.ts';

const args = process.argv.slice(2);
const iterations = Number(args.find((a) => !a.startsWith('--')) ?? 3000);
const dataDir = args.includes('--persist') ? mkdtempSync(path.join(tmpdir(), 'wire-bench-')) : undefined;

async function measure(label: string, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn(i);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn(i);
  const ms = performance.now() - start;
  console.log(`${label.padEnd(58)} ${Math.round(iterations / (ms / 1000)).toString().padStart(7)} ops/s  ${(ms / iterations).toFixed(3)} ms/op`);
}

const server = await startWireServer({ dataDir });
console.log(`data ${server.storage}`);
const client = await new MongoClient(server.uri).connect();
try {
  const db = client.db('throughput');
  const items = db.collection('items');
  const queue = db.collection('queue');
  const ids: ObjectId[] = [];
  for (let i = 0; i < 1000; i++) ids.push((await items.insertOne({ i, text: `hello ${i}` })).insertedId);
  const base = Date.now();
  await queue.insertMany(Array.from({ length: 10_000 }, (_, i) => ({ state: 'pending', createdAt: new Date(base + ((i * 7919) % 10_000)), attempts: 0 })));

  await measure('insertOne', (i) => items.insertOne({ i, text: 'bench' }));
  await measure('findOne by _id', (i) => items.findOne({ _id: ids[i % ids.length] }));
  // Each claim re-queues the oldest pending document at the back, so every call scans all 10,000.
  await measure('findOneAndUpdate claim, 10k pending, sort {createdAt: 1}', () =>
    queue.findOneAndUpdate(
      { state: 'pending' },
      { $set: { createdAt: new Date(), claimedAt: new Date() }, $inc: { attempts: 1 } },
      { sort: { createdAt: 1 }, returnDocument: 'after' },
    ),
  );
  await measure('countDocuments over 10k', () => queue.countDocuments({ state: 'pending' }));
  await measure('find 20 newest of 10k (sort + limit)', () => queue.find({ state: 'pending' }).sort({ createdAt: -1 }).limit(20).toArray());
  // Parley's media job indexes: every write files the document under three leading fields.
  const jobs = db.collection('jobs');
  const job = (i: number) => ({ botId: `bot-${i % 1000}`, state: 'pending', statePath: 'pending', fairSeq: i, createdAt: new Date(base + i) });
  await jobs.createIndexes([{ key: { state: 1, fairSeq: 1, createdAt: 1 } }, { key: { botId: 1, state: 1 } }, { key: { botId: 1, statePath: 1 } }, { key: { createdAt: 1, _id: 1 } }]);
  await jobs.insertMany(Array.from({ length: 10_000 }, (_, i) => job(i)));
  await measure('insertOne, 4 secondary indexes', (i) => jobs.insertOne(job(i)));
  await measure('find by indexed botId, ~13 of 13k', (i) => jobs.find({ botId: `bot-${i % 1000}`, statePath: { $in: ['pending', 'held'] } }).toArray());
} finally {
  await client.close();
  await server.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}
