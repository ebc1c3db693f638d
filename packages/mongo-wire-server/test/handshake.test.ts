import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { startWireServer } from '../src/index.ts';
import { useWireServer } from './harness.ts';

const h = useWireServer();

describe('handshake and server commands through the official driver', () => {
  it('connects with the driver (legacy OP_QUERY handshake, then OP_MSG) and answers ping', async () => {
    const before = h.server.stats().commands;
    await expect(h.client.db('admin').command({ ping: 1 })).resolves.toEqual({ ok: 1 });
    expect(h.server.stats().commands).toBeGreaterThan(before);
    expect(h.server.stats().connections).toBeGreaterThanOrEqual(1);
  });

  it('describes a writable standalone in hello', async () => {
    const hello = await h.client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      helloOk: true,
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: 48000000,
      maxWriteBatchSize: 100000,
      logicalSessionTimeoutMinutes: 30,
      minWireVersion: 0,
      maxWireVersion: 21,
      readOnly: false,
      ok: 1,
    });
    expect(hello.localTime).toBeInstanceOf(Date);
    expect(typeof hello.connectionId).toBe('number');
    expect(hello).not.toHaveProperty('setName');
    expect(hello).not.toHaveProperty('topologyVersion');
  });

  it('answers isMaster with the legacy ismaster flag', async () => {
    const reply = await h.client.db('admin').command({ isMaster: 1 });
    expect(reply.ismaster).toBe(true);
    expect(reply).not.toHaveProperty('isWritablePrimary');
  });

  it('reports version 7.0.0 and identifies itself in buildInfo', async () => {
    const info = await h.client.db('admin').command({ buildInfo: 1 });
    expect(info).toMatchObject({ version: '7.0.0', versionArray: [7, 0, 0, 0], parleyWireServer: true, ok: 1 });
  });

  it('rejects unknown commands with CommandNotFound (59)', async () => {
    await expect(h.client.db('admin').command({ notACommand: 1 })).rejects.toMatchObject({
      code: 59,
      codeName: 'CommandNotFound',
      message: "no such command: 'notACommand'",
    });
  });

  it('refuses transactions the way a standalone mongod does', async () => {
    const session = h.client.startSession();
    const coll = h.db().collection('tx');
    await expect(
      session.withTransaction(async () => {
        await coll.insertOne({ a: 1 }, { session });
      }),
    ).rejects.toSatisfy((err: { code?: number; originalError?: { code?: number; message?: string } }) => {
      // The driver rewrites this error into its retryable-writes hint, exactly as it does for a real standalone.
      return err.originalError?.code === 20 && /only allowed on a replica set/.test(err.originalError.message ?? '');
    });
    await session.endSession();
  });

  it('lists databases that hold collections and drops a whole database', async () => {
    const db = h.db('listed_db');
    await db.collection('c').insertOne({ a: 1 });
    const { databases } = await h.client.db('admin').admin().listDatabases();
    expect(databases.map((d) => d.name)).toContain('listed_db');
    await expect(db.dropDatabase()).resolves.toBe(true);
    const after = await h.client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(after.databases.map((d) => d.name)).not.toContain('listed_db');
    expect(await db.collection('c').countDocuments()).toBe(0);
  });

  it('answers serverStatus, hostInfo and getParameter minimally', async () => {
    const admin = h.client.db('admin');
    expect((await admin.command({ serverStatus: 1 })).ok).toBe(1);
    expect((await admin.command({ hostInfo: 1 })).system).toBeDefined();
    expect((await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).featureCompatibilityVersion).toEqual({ version: '7.0' });
  });

  it('counts connections and commands in stats() and closes clients on close()', async () => {
    const server = await startWireServer();
    expect(server.uri).toBe(`mongodb://127.0.0.1:${server.port}/?directConnection=true`);
    const client = await new MongoClient(server.uri, { serverSelectionTimeoutMS: 2000 }).connect();
    await client.db('x').collection('y').insertOne({ a: 1 });
    const stats = server.stats();
    expect(stats.connections).toBeGreaterThanOrEqual(1);
    expect(stats.commands).toBeGreaterThanOrEqual(2);
    expect(stats.openCursors).toBe(0);
    await server.close();
    expect(server.stats().connections).toBe(0);
    await expect(client.db('x').command({ ping: 1 }, { timeoutMS: 500 })).rejects.toThrow();
    await client.close(true);
  });
});
