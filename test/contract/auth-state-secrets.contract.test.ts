import { randomBytes } from 'node:crypto';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createSecretBox, keyId } from '../../src/adapters/crypto/secret-box.ts';
import { createAuthStateRepository } from '../../src/adapters/mongodb/auth-state.repository.ts';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { ParleyError } from '../../src/domain/errors.ts';
import { useTestStore } from '../support/test-store.ts';

interface RawAuthDoc {
  _id: string;
  botId: string;
  type?: string;
  key?: string;
  updatedAt?: Date;
  value?: unknown;
  sealed?: { v: number; kid: string; iv: string; tag: string; data: string };
}

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (err: unknown) => err);

describe('provider auth state at rest', () => {
  const t = useTestStore('parley_auth_secrets');
  const raw = () => t.db.collection<RawAuthDoc>(COLLECTIONS.authState);
  const keys = { first: randomBytes(32), second: randomBytes(32), other: randomBytes(32) };

  it('keeps every value sealed: the raw documents hold none of the plaintext, and reads give it back', async () => {
    const noise = Buffer.from('noise-private-key-bytes-0123456');
    await t.store.authState.set('sealed-bot', {
      creds: { me: { id: 'account-jid@s.whatsapp.net', name: 'Plain Account Name' }, noiseKey: { private: noise } },
      session: { s1: 'signal-session-plaintext' },
    });
    const docs = await raw().find({ botId: 'sealed-bot' }).toArray();
    expect(docs).toHaveLength(3);
    for (const doc of docs) {
      expect(doc).not.toHaveProperty('value');
      expect(doc.sealed).toEqual({ v: 1, kid: expect.stringMatching(/^[0-9a-f]{16}$/), iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
    }
    const bytes = Buffer.concat(docs.map((d) => BSON.serialize(d)));
    for (const plain of ['account-jid', 'Plain Account Name', 'signal-session-plaintext']) expect(bytes.includes(Buffer.from(plain))).toBe(false);
    expect(bytes.includes(noise)).toBe(false);

    expect(await t.store.authState.get('sealed-bot', 'creds', ['me'])).toEqual({ me: { id: 'account-jid@s.whatsapp.net', name: 'Plain Account Name' } });
    expect(await t.store.authState.get('sealed-bot', 'session', ['s1'])).toEqual({ s1: 'signal-session-plaintext' });
    const { noiseKey } = await t.store.authState.get('sealed-bot', 'creds', ['noiseKey']);
    expect(Buffer.from(BSON.serialize({ noiseKey })).includes(noise)).toBe(true);
  });

  it('refuses a sealed value moved onto another record instead of reading it', async () => {
    await t.store.authState.set('moved', { session: { a: 'secret of a', b: 'secret of b' } });
    const a = await raw().findOne({ _id: 'moved|session|a' });
    await raw().updateOne({ _id: 'moved|session|b' }, { $set: { sealed: a!.sealed! } });
    const err = await rejection(t.store.authState.get('moved', 'session', ['b']));
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toMatchObject({ code: 'SECRET_UNREADABLE' });
    expect(await t.store.authState.get('moved', 'session', ['a'])).toEqual({ a: 'secret of a' });
  });

  it('reads a value stored in the clear before encryption, and seals it then', async () => {
    await raw().insertOne({ _id: 'clear|creds|me', botId: 'clear', type: 'creds', key: 'me', value: { token: 'clear-text-credential' }, updatedAt: new Date() });
    await raw().insertOne({ _id: 'clear|creds|other', botId: 'clear', type: 'creds', key: 'other', value: 'clear-other', updatedAt: new Date() });
    expect(await t.store.authState.get('clear', 'creds', ['me'])).toEqual({ me: { token: 'clear-text-credential' } });
    const read = await raw().findOne({ _id: 'clear|creds|me' });
    expect(read).not.toHaveProperty('value');
    expect(read?.sealed?.v).toBe(1);
    // A write seals too, and leaves nothing of the old value beside it.
    await t.store.authState.set('clear', { creds: { other: 'sealed-other' } });
    const written = await raw().findOne({ _id: 'clear|creds|other' });
    expect(written).not.toHaveProperty('value');
    expect(await t.store.authState.get('clear', 'creds', ['other'])).toEqual({ other: 'sealed-other' });
  });

  it('rotates: a value sealed with a previous key opens and is sealed again with the current one; without that key it is refused', async () => {
    const before = createAuthStateRepository(t.db, createSecretBox(keys.first));
    await before.set('rotating', { creds: { me: 'old-key-secret' } });
    const after = createAuthStateRepository(t.db, createSecretBox(keys.second, [keys.first]));
    expect(await after.get('rotating', 'creds', ['me'])).toEqual({ me: 'old-key-secret' });
    expect((await raw().findOne({ _id: 'rotating|creds|me' }))?.sealed?.kid).toBe(keyId(keys.second));

    await before.set('rotating', { creds: { left: 'only-old-key' } });
    const forgotten = createAuthStateRepository(t.db, createSecretBox(keys.second));
    expect(await rejection(forgotten.get('rotating', 'creds', ['left']))).toMatchObject({ code: 'SECRET_UNREADABLE', message: expect.stringContaining('PARLEY_SECRET_KEY_PREVIOUS') });
  });

  it('reseals every value under an old key or in the clear at once, and counts those no key opens', async () => {
    const old = createAuthStateRepository(t.db, createSecretBox(keys.first));
    await old.set('sweep', { 'pre-key': { 1: 'k1', 2: 'k2', 3: 'k3' } });
    await raw().insertOne({ _id: 'sweep|creds|me', botId: 'sweep', type: 'creds', key: 'me', value: 'clear', updatedAt: new Date() });
    await createAuthStateRepository(t.db, createSecretBox(keys.other)).set('sweep', { session: { lost: 'key gone' } });

    const current = createAuthStateRepository(t.db, createSecretBox(keys.second, [keys.first]));
    const first = await current.reseal();
    // Earlier tests of this file left values of their own under `first` and in the clear.
    expect(first.unreadable).toBeGreaterThanOrEqual(1);
    expect(first.resealed).toBeGreaterThanOrEqual(4);
    const kids = (await raw().find({ botId: 'sweep' }).toArray()).map((d) => [d._id, d.sealed?.kid]);
    expect(Object.fromEntries(kids)).toEqual({
      'sweep|pre-key|1': keyId(keys.second), 'sweep|pre-key|2': keyId(keys.second), 'sweep|pre-key|3': keyId(keys.second),
      'sweep|creds|me': keyId(keys.second), 'sweep|session|lost': keyId(keys.other),
    });
    expect(await current.reseal()).toEqual({ resealed: 0, unreadable: first.unreadable });
    expect(await current.get('sweep', 'pre-key', ['1', '3'])).toEqual({ 1: 'k1', 3: 'k3' });
  });

  it('refuses to hold credentials when opened without a secret key', async () => {
    const keyless = createAuthStateRepository(t.db, undefined);
    expect(await rejection(keyless.set('keyless', { creds: { me: 'would be clear' } }))).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await raw().countDocuments({ botId: 'keyless' })).toBe(0);
  });
});
