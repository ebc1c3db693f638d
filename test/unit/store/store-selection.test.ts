import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
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

/** Whether a TCP connection to `host:port` is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
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

  it('listens on loopback only: it asks for no credentials, so no other machine may reach it', async () => {
    const selected = await bundled();
    try {
      const { hostname, port } = new URL(selected.uri);
      expect(hostname).toBe('127.0.0.1');
      expect(await reachable('127.0.0.1', Number(port))).toBe(true);
      // Every address this machine has on a network, as another machine would dial it.
      const outside = Object.values(networkInterfaces()).flat().filter((a) => a !== undefined && !a.internal && a.family === 'IPv4');
      for (const address of outside) expect(await reachable(address!.address, Number(port)), address!.address).toBe(false);
    } finally {
      await selected.close();
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
