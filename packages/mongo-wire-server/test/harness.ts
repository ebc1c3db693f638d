import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { startWireServer, type WireServer } from '../src/index.ts';

/** A server plus a connected official driver, shared by one test file. */
export interface WireHarness {
  readonly server: WireServer;
  readonly client: MongoClient;
  /** A database unique to the calling test. */
  db(name?: string): Db;
}

let dbCounter = 0;

/** Starts a wire server and a driver client before the file's tests, and stops both afterwards. */
export function useWireServer(): WireHarness {
  let server: WireServer | undefined;
  let client: MongoClient | undefined;
  beforeAll(async () => {
    server = await startWireServer({ port: 0 });
    client = await new MongoClient(server.uri, { serverSelectionTimeoutMS: 3000 }).connect();
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('server not started');
      return server;
    },
    get client() {
      if (!client) throw new Error('client not connected');
      return client;
    },
    db(name) {
      if (!client) throw new Error('client not connected');
      return client.db(name ?? `t${++dbCounter}`);
    },
  };
}
