import { randomBytes } from 'node:crypto';
import { BufferJSON, initAuthCreds, proto } from 'baileys';
import type { SignalDataSet } from 'baileys';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { CREDS_ID, CREDS_TYPE, loadMongoAuthState } from '../../src/adapters/baileys/mongo-auth-state.ts';
import type { AuthStateLogger } from '../../src/adapters/baileys/mongo-auth-state.ts';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import type { AuthStateStore } from '../../src/ports/auth-state-store.port.ts';
import { useTestStore } from '../support/test-store.ts';

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (err: unknown) => err);
const asJson = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);

/** A logger that keeps every call, to check what reaches the log. */
function recordingLogger(): { logger: AuthStateLogger; lines: unknown[] } {
  const lines: unknown[] = [];
  const record = (obj: unknown, msg?: string): void => void lines.push([obj, msg]);
  const logger = { level: 'trace', child: () => logger, trace: record, debug: record, info: record, warn: record, error: record };
  return { logger, lines };
}

/** The store, failing its next `failSets` writes as a dropped connection would; counts writes. */
function flakyStore(inner: AuthStateStore, failSets: number): AuthStateStore & { sets: number } {
  let left = failSets;
  const flaky = {
    sets: 0,
    get: (botId: string, type: string, ids: readonly string[]) => inner.get(botId, type, ids),
    async set(botId: string, entries: Parameters<AuthStateStore['set']>[1]) {
      flaky.sets += 1;
      if (left > 0) {
        left -= 1;
        throw new Error('connection reset');
      }
      await inner.set(botId, entries);
    },
    clear: (botId: string) => inner.clear(botId),
    reseal: () => inner.reseal(),
  };
  return flaky;
}

describe('Baileys auth state in the store', () => {
  const t = useTestStore('parley_baileys_auth');
  const raw = () => t.db.collection<{ _id: string; botId: string }>(COLLECTIONS.authState);

  it('reads back after a restart the credentials byte for byte and keys of every shape', async () => {
    const { logger, lines } = recordingLogger();
    const first = await loadMongoAuthState(t.store.authState, 'restart', logger);
    const { creds } = first.state;
    creds.me = { id: '15550001111:3@s.whatsapp.net', lid: '99887766:3@lid', name: 'Restart Bot' };
    creds.routingInfo = randomBytes(12);
    creds.account = { details: randomBytes(40), accountSignatureKey: randomBytes(32), accountSignature: randomBytes(64), deviceSignature: randomBytes(64) };
    creds.registered = true;
    await first.saveCreds();

    const syncKeyData = randomBytes(32);
    const preKey = { public: randomBytes(33), private: randomBytes(32) };
    const session = randomBytes(200);
    const data: SignalDataSet = {
      session: { '15550002222.0': session },
      'pre-key': { 7: preKey },
      'lid-mapping': { '15550002222': '12345678@lid', '12345678_reverse': '15550002222' },
      'app-state-sync-key': { AAAAAQ: proto.Message.AppStateSyncKeyData.fromObject({ keyData: syncKeyData, fingerprint: { rawId: 5, currentIndex: 2, deviceIndexes: [0, 1] }, timestamp: 1_700_000_000 }) },
      'device-list': { '15550002222': ['0', '3'] },
      tctoken: { '15550002222@s.whatsapp.net': { token: randomBytes(16), timestamp: '1700000000' } },
    };
    await first.state.keys.set(data);

    // What the store holds is the BufferJSON text, so BSON never sees a Buffer of Baileys'.
    expect(await t.store.authState.get('restart', 'pre-key', ['7'])).toEqual({ 7: asJson(preKey) });

    const again = await loadMongoAuthState(t.store.authState, 'restart');
    const read = again.state.creds;
    expect(asJson(read)).toBe(asJson(creds));
    expect(read.noiseKey.private).toBeInstanceOf(Buffer);
    expect(Buffer.from(read.noiseKey.private).equals(creds.noiseKey.private)).toBe(true);
    expect(read.signedIdentityKey.public).toBeInstanceOf(Buffer);
    expect(Buffer.from(read.signedIdentityKey.public).equals(creds.signedIdentityKey.public)).toBe(true);
    expect(read.routingInfo?.equals(creds.routingInfo)).toBe(true);
    expect(read.me).toEqual(creds.me);

    const { keys } = again.state;
    const sessions = await keys.get('session', ['15550002222.0']);
    expect(Buffer.from(sessions['15550002222.0']!).equals(session)).toBe(true);
    const preKeys = await keys.get('pre-key', ['7']);
    expect(preKeys['7']?.public).toBeInstanceOf(Buffer);
    expect(asJson(preKeys['7'])).toBe(asJson(preKey));
    expect(await keys.get('lid-mapping', ['15550002222', '12345678_reverse'])).toEqual({ '15550002222': '12345678@lid', '12345678_reverse': '15550002222' });
    expect(await keys.get('device-list', ['15550002222'])).toEqual({ '15550002222': ['0', '3'] });
    expect(asJson(await keys.get('tctoken', ['15550002222@s.whatsapp.net']))).toBe(asJson(data.tctoken));

    const syncKey = (await keys.get('app-state-sync-key', ['AAAAAQ']))['AAAAAQ'];
    expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(syncKey!.keyData!).equals(syncKeyData)).toBe(true);
    expect(syncKey!.fingerprint).toBeInstanceOf(proto.Message.AppStateSyncKeyFingerprint);
    expect(syncKey!.fingerprint?.deviceIndexes).toEqual([0, 1]);
    expect(Number(syncKey!.timestamp)).toBe(1_700_000_000);

    // The cache logs counts; no secret reaches the log.
    const logged = asJson(lines);
    for (const secret of [session, preKey.private, syncKeyData]) expect(logged).not.toContain(secret.toString('base64'));
    expect(logged).not.toContain('12345678@lid');
  });

  it('deletes a key written as null, and leaves ids it does not hold out of a read', async () => {
    const auth = await loadMongoAuthState(t.store.authState, 'deletes');
    await auth.state.keys.set({ session: { a: randomBytes(8), b: randomBytes(8) }, 'sender-key-memory': { g: { x: true } } });
    await auth.state.keys.set({ session: { a: null } });

    // Baileys' cache answers a key it saw deleted with null, which Baileys reads as absent.
    const cached = await auth.state.keys.get('session', ['a', 'b', 'never']);
    expect(cached['a'] ?? undefined).toBeUndefined();
    expect(cached).not.toHaveProperty('never');

    const { keys } = (await loadMongoAuthState(t.store.authState, 'deletes')).state;
    expect(Object.keys(await keys.get('session', ['a', 'b', 'never']))).toEqual(['b']);
    expect(await keys.get('sender-key-memory', ['g', 'h'])).toEqual({ g: { x: true } });
    expect(await raw().countDocuments({ _id: 'deletes|session|a' })).toBe(0);
  });

  it('clears every key and the credentials of its bot only', async () => {
    const gone = await loadMongoAuthState(t.store.authState, 'logout');
    const kept = await loadMongoAuthState(t.store.authState, 'stays');
    for (const auth of [gone, kept]) {
      await auth.saveCreds();
      await auth.state.keys.set({ session: { s: randomBytes(8) }, 'lid-mapping': { pn: 'lid@lid' } });
    }
    await gone.clear();

    expect(await raw().countDocuments({ botId: 'logout' })).toBe(0);
    expect(await raw().countDocuments({ botId: 'stays' })).toBe(3);
    // The cache forgot them too.
    expect(await gone.state.keys.get('session', ['s'])).toEqual({});
    const fresh = await loadMongoAuthState(t.store.authState, 'logout');
    expect(Buffer.from(fresh.state.creds.noiseKey.private).equals(gone.state.creds.noiseKey.private)).toBe(false);
    expect(asJson((await loadMongoAuthState(t.store.authState, 'stays')).state.creds)).toBe(asJson(kept.state.creds));
    expect(await (await loadMongoAuthState(t.store.authState, 'stays')).state.keys.get('lid-mapping', ['pn'])).toEqual({ pn: 'lid@lid' });
  });

  it('keeps the credentials sealed at rest', async () => {
    const auth = await loadMongoAuthState(t.store.authState, 'at-rest');
    await auth.saveCreds();
    const docs = await raw().find({ botId: 'at-rest' }).toArray();
    expect(docs.map((d) => d._id)).toEqual([`at-rest|${CREDS_TYPE}|${CREDS_ID}`]);
    const bytes = Buffer.concat(docs.map((d) => BSON.serialize(d)));
    const secret = Buffer.from(auth.state.creds.noiseKey.private);
    for (const plain of [secret, Buffer.from(secret.toString('base64')), Buffer.from(auth.state.creds.advSecretKey)]) expect(bytes.includes(plain)).toBe(false);
  });

  it('writes a batch of keys in one store call, which a retry completes after a transient failure', async () => {
    const flaky = flakyStore(t.store.authState, 1);
    const auth = await loadMongoAuthState(flaky, 'flaky-keys');
    const batch = { session: { s: randomBytes(8) }, 'pre-key': { 1: { public: randomBytes(33), private: randomBytes(32) } }, 'lid-mapping': { pn: 'x@lid' } };

    expect(await rejection(Promise.resolve(auth.state.keys.set(batch)))).toMatchObject({ message: 'connection reset' });
    expect(flaky.sets).toBe(1);
    expect(await raw().countDocuments({ botId: 'flaky-keys' })).toBe(0);
    await auth.state.keys.set(batch);
    expect(flaky.sets).toBe(2);

    const keys = (await loadMongoAuthState(t.store.authState, 'flaky-keys')).state.keys;
    expect(asJson(await keys.get('session', ['s']))).toBe(asJson(batch.session));
    expect(asJson(await keys.get('pre-key', ['1']))).toBe(asJson(batch['pre-key']));
    expect(await keys.get('lid-mapping', ['pn'])).toEqual({ pn: 'x@lid' });
  });

  it('stores the credentials when a save that failed once is made again', async () => {
    const flaky = flakyStore(t.store.authState, 1);
    const auth = await loadMongoAuthState(flaky, 'flaky-creds');
    auth.state.creds.registered = true;
    expect(await rejection(auth.saveCreds())).toMatchObject({ message: 'connection reset' });
    await auth.saveCreds();

    const read = (await loadMongoAuthState(t.store.authState, 'flaky-creds')).state.creds;
    expect(read.registered).toBe(true);
    expect(asJson(read)).toBe(asJson(auth.state.creds));
    expect(asJson(read)).not.toBe(asJson(initAuthCreds()));
  });
});
