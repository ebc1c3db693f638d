import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { selectMongo, type MongoSelectionOptions } from '../../../src/adapters/mongodb/store-selection.ts';
import { createLogger } from '../../../src/logging/logger.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function bundled(extra: Partial<MongoSelectionOptions> = {}): Promise<Awaited<ReturnType<typeof selectMongo>>> {
  return selectMongo({ uri: undefined, memoryServer: 'off', logger: createLogger('silent'), ...extra });
}

async function withClient<T>(uri: string, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 3000 }).connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

describe('store selection: the bundled store', () => {
  it('given a data directory, keeps its data there across a restart, says so, and refuses a second Parley on it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-bundled-'));
    dirs.push(dir);
    const first = await bundled({ bundledDataDir: dir });
    expect(first.kind).toBe('bundled');
    expect(first.description).toContain(`data in ${dir} (journal and snapshot): a clean stop keeps everything, a kill -9 of the process loses no acknowledged write`);
    expect(first.description).toMatch(/power loss can lose the most recent writes/);
    try {
      await withClient(first.uri, (client) => client.db('parley').collection('bots').insertOne({ _id: 'kept' as never }));
      await expect(bundled({ bundledDataDir: dir })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(new RegExp(`^The bundled store cannot open .*: data directory .* is in use by process ${process.pid}`)),
      });
    } finally {
      await first.close();
    }

    const second = await bundled({ bundledDataDir: dir });
    try {
      expect(await withClient(second.uri, (client) => client.db('parley').collection('bots').find().toArray())).toEqual([{ _id: 'kept' }]);
    } finally {
      await second.close();
    }
  });

  it('without a data directory (the test suite) runs in memory and says its data is lost on exit', async () => {
    const selected = await bundled();
    try {
      expect(selected.description).toMatch(/^bundled MongoDB-wire-compatible store at mongodb:\/\/\S+ \(development\/test only; data in memory only: lost when the process ends\)$/);
    } finally {
      await selected.close();
    }
  });
});
