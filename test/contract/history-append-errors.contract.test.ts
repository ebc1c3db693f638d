import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Document } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { openMongoStore } from '../../src/adapters/mongodb/mongo-store.ts';
import { isParleyError } from '../../src/domain/errors.ts';
import type { HistoryRecord } from '../../src/ports/history-store.port.ts';
import type { Store } from '../../src/ports/store.port.ts';
import { proxyTarget, startReplyProxy } from '../support/reply-proxy.ts';
import type { ReplyProxy } from '../support/reply-proxy.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const row = (seq: number, providerMessageId: string | null): HistoryRecord => ({
  botId: 'b1', correspondentId: 'c1', seq, providerMessageId, direction: 'inbound', source: 'user',
  sender: 'c1', kind: 'text', content: `m${seq}`, status: 'final', mediaJobId: null, acceptedAt: T0, finalizedAt: T0,
});

/** What a replica set adds to an insert reply when the write is applied but not confirmed replicated. */
const writeConcernError = (code: number, codeName: string) => (command: string, reply: Document) =>
  command === 'insert' ? { ...reply, writeConcernError: { code, codeName, errmsg: `${codeName} (injected)`, errInfo: { wtimeout: code === 64 } } } : undefined;

const target = proxyTarget(inject('mongoUri'));

// The real driver, with the store's replies altered on the wire, so each error is built exactly as
// the driver builds it in production. Needs a plain single-host store URI to stand in front of.
describe.skipIf(target === undefined)('history.append when the store fails mid-write', () => {
  let proxy: ReplyProxy;
  let store: Store;
  let direct: MongoClient;
  const dbName = `parley_append_${randomBytes(4).toString('hex')}`;
  const messages = () => direct.db(dbName).collection(COLLECTIONS.messages);

  beforeAll(async () => {
    proxy = await startReplyProxy(target!);
    store = await openMongoStore({ uri: proxy.uri, dbName, serverSelectionTimeoutMS: 2_000 });
    direct = await new MongoClient(inject('mongoUri')).connect();
  });
  beforeEach(async () => {
    proxy.rule = undefined;
    await messages().deleteMany({});
  });
  afterAll(async () => {
    await direct?.db(dbName).dropDatabase();
    await direct?.close();
    await store?.close();
    await proxy?.close();
  });

  it.each([
    [64, 'WriteConcernFailed'],
    [91, 'ShutdownInProgress'],
    [189, 'PrimarySteppedDown'],
    [11602, 'InterruptedDueToReplStateChange'],
    [100, 'UnsatisfiableWriteConcern'],
  ])('rejects with STORE_UNAVAILABLE on write-concern error %i (%s), though the primary applied the rows', async (code, codeName) => {
    proxy.rule = writeConcernError(code, codeName);
    const err = await store.history.append([row(1, 'p1'), row(2, 'p2')]).catch((e: unknown) => e);
    expect(isParleyError(err, 'STORE_UNAVAILABLE'), String(err)).toBe(true);
    expect(await messages().countDocuments()).toBe(2);
  });

  it('does not report duplicates when the same reply also carries a write-concern error', async () => {
    await store.history.append([row(1, 'p1')]);
    proxy.rule = writeConcernError(64, 'WriteConcernFailed');
    const err = await store.history.append([row(2, 'p1'), row(3, 'p3')]).catch((e: unknown) => e);
    expect(isParleyError(err, 'STORE_UNAVAILABLE'), String(err)).toBe(true);
  });

  it('rejects with STORE_UNAVAILABLE when the primary steps down before writing or the reply is lost', async () => {
    proxy.rule = (command) => (command === 'insert' ? { ok: 0, code: 10107, codeName: 'NotWritablePrimary', errmsg: 'not primary (injected)' } : undefined);
    expect(await store.history.append([row(1, 'p1')]).catch((e: unknown) => e)).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    proxy.rule = (command) => (command === 'insert' ? 'hang-up' : undefined);
    expect(await store.history.append([row(2, 'p2')]).catch((e: unknown) => e)).toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('still reports a replay as a duplicate and a taken seq as seqTaken, by position', async () => {
    await store.history.append([row(1, 'p1'), row(2, 'p2')]);
    const result = await store.history.append([row(3, 'p1'), row(4, 'p4'), row(2, 'p5'), row(5, null)]);
    expect(result).toEqual({ inserted: 2, duplicates: [0], seqTaken: [2] });
  });
});
