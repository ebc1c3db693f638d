import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Binary, Decimal128, Long, MongoClient, ObjectId, type Db } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startWireServer, type WireServer, type WireServerOptions } from '../src/index.ts';

/** Documents of any shape; these tests use string and number `_id`s. */
type AnyDoc = { _id: string | number; [field: string]: unknown };
type Counter = { _id: string; n: number };

const CLI = path.resolve(import.meta.dirname, '../src/cli.ts');
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wire-persist-'));
  dirs.push(dir);
  return dir;
}

/** Runs `fn` against a server on `dataDir`, then closes client and server cleanly. */
async function withServer<T>(dataDir: string, fn: (db: (name: string) => Db, server: WireServer) => Promise<T>, opts: WireServerOptions = {}): Promise<T> {
  const server = await startWireServer({ dataDir, ...opts });
  const client = await new MongoClient(server.uri, { serverSelectionTimeoutMS: 3000 }).connect();
  try {
    return await fn((name) => client.db(name), server);
  } finally {
    await client.close();
    await server.close();
  }
}

/**
 * Copies the data files as they are on disk right now into a new directory: exactly what a
 * `kill -9` at this moment would leave behind (written bytes are in the kernel's hands).
 */
function crashImage(dataDir: string): string {
  const image = tempDir();
  for (const file of ['snapshot', 'journal']) {
    if (existsSync(path.join(dataDir, file))) copyFileSync(path.join(dataDir, file), path.join(image, file));
  }
  return image;
}

async function ids(db: Db, coll: string): Promise<unknown[]> {
  return (await db.collection<AnyDoc>(coll).find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id);
}

describe('persistence in a data directory', () => {
  it.each([
    ['a clean close (from the snapshot)', false],
    ['a kill -9 (from the journal)', true],
  ])('keeps documents, updates, deletes, indexes (unique and partial), renames and drops across %s', async (_how, crash) => {
    const dir = tempDir();
    let reopen = dir;
    const oid = new ObjectId();
    const typed = { _id: 'typed', long: Long.fromString('9007199254740993'), dec: Decimal128.fromString('1.10'), at: new Date(1234), bin: new Binary(Buffer.from([1, 2, 3])), oid, nested: { a: [1, { b: null }] } };
    await withServer(dir, async (db) => {
      const users = db('app').collection<AnyDoc>('users');
      await users.createIndex({ email: 1 }, { unique: true });
      await users.createIndex({ phone: 1 }, { unique: true, partialFilterExpression: { phone: { $type: 'string' } }, name: 'phone_partial' });
      await users.createIndex({ age: -1 });
      await users.createIndex({ temporary: 1 });
      await users.dropIndex('temporary_1');
      await users.insertMany([
        { _id: 1, email: 'a@x', phone: '111', age: 30 },
        { _id: 2, email: 'b@x', age: 40 },
        { _id: 3, email: 'c@x', age: 50 },
      ]);
      await users.updateOne({ _id: 2 }, { $set: { email: 'b2@x', age: 41 } });
      await users.replaceOne({ _id: 1 }, { email: 'a@x', phone: '112' });
      await users.deleteOne({ _id: 3 });
      await users.insertOne(typed);
      await db('app').collection<AnyDoc>('doomed').insertOne({ _id: 1, x: 1 });
      await db('app').collection<AnyDoc>('doomed').drop();
      await db('app').createCollection('empty');
      await db('app').collection<AnyDoc>('before').insertOne({ _id: 'moved' });
      await db('admin').command({ renameCollection: 'app.before', to: 'app.after' });
      await db('gone').collection<AnyDoc>('c').insertOne({ _id: 1, x: 1 });
      await db('gone').dropDatabase();
      if (crash) reopen = crashImage(dir);
    });

    await withServer(reopen, async (db) => {
      const users = db('app').collection<AnyDoc>('users');
      expect(await users.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
        { _id: 1, email: 'a@x', phone: '112' },
        { _id: 2, email: 'b2@x', age: 41 },
        typed,
      ]);
      const indexes = await users.listIndexes().toArray();
      expect(indexes.map((i) => i.name)).toEqual(['_id_', 'email_1', 'phone_partial', 'age_-1']);
      expect(indexes[2]).toMatchObject({ unique: true, partialFilterExpression: { phone: { $type: 'string' } } });
      // The unique and partial indexes are enforced again, not only listed.
      await expect(users.insertOne({ _id: 10, email: 'b2@x' })).rejects.toMatchObject({ code: 11000 });
      await expect(users.insertOne({ _id: 11, email: 'd@x', phone: '112' })).rejects.toMatchObject({ code: 11000 });
      await users.insertMany([{ _id: 12, email: 'e@x', phone: 5 }, { _id: 13, email: 'f@x', phone: 5 }]);
      const collections = (await db('app').listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      expect(collections).toEqual(['after', 'empty', 'users']);
      expect(await ids(db('app'), 'after')).toEqual(['moved']);
      const databases = (await db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
      expect(databases).not.toContain('gone');
    });
  });

  it('loses no acknowledged write when the server process is killed with SIGKILL in the middle of a burst', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [CLI, '--port', '0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const uri = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const found = /listening on (mongodb:\/\/\S+);/.exec(out)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    });
    expect(out).toMatch(/a kill -9 of the process loses no acknowledged write/);

    const client = await new MongoClient(uri, { retryWrites: false, serverSelectionTimeoutMS: 2000, maxPoolSize: 8 }).connect();
    const db = client.db('burst');
    await db.collection<AnyDoc>('items').createIndex({ key: 1 }, { unique: true });
    await db.collection<Counter>('counter').insertOne({ _id: 'c', n: 0 });
    await db.collection<AnyDoc>('items').insertMany([{ _id: 'deleted', key: 'd' }, { _id: 'updated', key: 'u', v: 0 }]);
    await db.collection<AnyDoc>('items').deleteOne({ _id: 'deleted' });
    await db.collection<AnyDoc>('items').updateOne({ _id: 'updated' }, { $set: { v: 1 } });

    const acked: string[] = [];
    let counterAcked = 0;
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          await db.collection<AnyDoc>('items').insertOne({ _id: `w${w}-${i}`, key: `w${w}-${i}` });
          acked.push(`w${w}-${i}`);
          const after = await db.collection<Counter>('counter').findOneAndUpdate({ _id: 'c' }, { $inc: { n: 1 } }, { returnDocument: 'after' });
          counterAcked = Math.max(counterAcked, Number(after?.n ?? 0));
        } catch {
          return;
        }
      }
    };
    const writers = Array.from({ length: 6 }, (_, w) => writer(w));
    const deadline = Date.now() + 20_000;
    while (acked.length < 300 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(acked.length).toBeGreaterThanOrEqual(300);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await client.close(true);
    // The dead process left its lock behind; the next server takes it over.
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(true);

    await withServer(dir, async (reopened) => {
      const items = reopened('burst').collection<AnyDoc>('items');
      const present = new Set((await items.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
      expect(acked.filter((id) => !present.has(id))).toEqual([]);
      expect(present.has('deleted')).toBe(false);
      expect(await items.findOne({ _id: 'updated' })).toMatchObject({ v: 1 });
      expect((await reopened('burst').collection<Counter>('counter').findOne({ _id: 'c' }))?.n).toBeGreaterThanOrEqual(counterAcked);
      await expect(items.insertOne({ _id: 'duplicate', key: acked[0] })).rejects.toMatchObject({ code: 11000 });
    });
  }, 60_000);

  it.each([
    ['cut short', (journal: Buffer) => journal.subarray(0, journal.length - 3)],
    ['scrambled', (journal: Buffer) => {
      const copy = Buffer.from(journal);
      const at = copy.lastIndexOf('five');
      copy[at] = 'F'.charCodeAt(0);
      return copy;
    }],
  ])('ignores a final journal record that was %s, and appends after the intact ones', async (_how, damage) => {
    const dir = tempDir();
    const names = ['one', 'two', 'three', 'four', 'five'];
    let image = '';
    await withServer(dir, async (db) => {
      for (const [i, text] of names.entries()) await db('t').collection<AnyDoc>('c').insertOne({ _id: i + 1, text });
      image = crashImage(dir);
    });
    const journal = path.join(image, 'journal');
    writeFileSync(journal, damage(readFileSync(journal)));

    let second = '';
    await withServer(image, async (db) => {
      expect(await db('t').collection<AnyDoc>('c').find().toArray()).toEqual(names.slice(0, 4).map((text, i) => ({ _id: i + 1, text })));
      await db('t').collection<AnyDoc>('c').insertOne({ _id: 6, text: 'six' });
      second = crashImage(image);
    });
    await withServer(second, async (db) => {
      expect(await ids(db('t'), 'c')).toEqual([1, 2, 3, 4, 6]);
    });
  });

  it('writes a snapshot and empties the journal once the journal outgrows its limit, losing nothing', async () => {
    const dir = tempDir();
    const journalMaxBytes = 4096;
    let image = '';
    let journalBytesWritten = 0;
    await withServer(
      dir,
      async (db) => {
        const coll = db('t').collection<AnyDoc>('c');
        for (let i = 0; i < 300; i++) {
          await coll.insertOne({ _id: i, text: 'x'.repeat(100) });
          journalBytesWritten += 140; // at least: the document plus its record's envelope
        }
        await coll.updateMany({ _id: { $lt: 10 } }, { $set: { updated: true } });
        await coll.deleteMany({ _id: { $gte: 290 } });
        expect(existsSync(path.join(dir, 'snapshot'))).toBe(true);
        // Compaction bounds the journal by the larger of its limit and the snapshot, plus one command's changes.
        const bound = Math.max(journalMaxBytes, statSync(path.join(dir, 'snapshot')).size) + 4096;
        expect(statSync(path.join(dir, 'journal')).size).toBeLessThan(Math.min(bound, journalBytesWritten));
        image = crashImage(dir);
      },
      { journalMaxBytes },
    );
    await withServer(image, async (db) => {
      const coll = db('t').collection<AnyDoc>('c');
      expect(await coll.countDocuments()).toBe(290);
      expect(await coll.countDocuments({ updated: true })).toBe(10);
      expect(await coll.findOne({ _id: 289 })).toEqual({ _id: 289, text: 'x'.repeat(100) });
    });
  });

  it('does not replay a journal that an interrupted compaction left behind over the newer snapshot', async () => {
    const dir = tempDir();
    let staleJournal = Buffer.alloc(0);
    await withServer(dir, async (db) => {
      await db('t').collection<AnyDoc>('c').insertOne({ _id: 'deleted later' });
      staleJournal = readFileSync(path.join(dir, 'journal'));
    });
    await withServer(dir, async (db) => {
      await db('t').collection<AnyDoc>('c').deleteOne({ _id: 'deleted later' });
      await db('t').collection<AnyDoc>('c').insertOne({ _id: 'kept' });
    });
    // As if the process died after the snapshot was renamed into place but before the journal was emptied.
    writeFileSync(path.join(dir, 'journal'), staleJournal);
    await withServer(dir, async (db) => {
      expect(await ids(db('t'), 'c')).toEqual(['kept']);
    });
  });

  it('refuses a second server on a data directory in use, and takes over a lock whose process is gone', async () => {
    const dir = tempDir();
    const first = await startWireServer({ dataDir: dir });
    try {
      await expect(startWireServer({ dataDir: dir })).rejects.toThrow(`data directory ${dir} is in use by process ${process.pid}`);
    } finally {
      await first.close();
    }
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(false);

    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    writeFileSync(path.join(dir, 'LOCK'), `${dead.pid}\n`);
    await withServer(dir, async (_db, server) => {
      expect(server.storage).toContain(dir);
      expect(readFileSync(path.join(dir, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    });
  });

  it('stops start-up on a damaged snapshot instead of serving part of the data', async () => {
    const dir = tempDir();
    await withServer(dir, async (db) => {
      await db('t').collection<AnyDoc>('c').insertMany([{ _id: 1 }, { _id: 2 }]);
    });
    const snapshot = path.join(dir, 'snapshot');
    writeFileSync(snapshot, readFileSync(snapshot).subarray(0, statSync(snapshot).size - 10));
    await expect(startWireServer({ dataDir: dir })).rejects.toThrow(/snapshot .* is damaged/);
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(false);
  });
});
