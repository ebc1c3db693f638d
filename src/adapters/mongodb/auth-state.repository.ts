import { BSON } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import { ParleyError, isParleyError } from '../../domain/errors.ts';
import type { AuthStateStore } from '../../ports/auth-state-store.port.ts';
import type { SecretBox, SecretEnvelope } from '../../ports/secret-box.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

interface AuthDoc {
  _id: string;
  botId: string;
  type: string;
  key: string;
  /** The value, BSON-encoded and sealed for this document alone. */
  sealed?: SecretEnvelope;
  /** A value stored before encryption; sealed at its next read or write. */
  value?: unknown;
  updatedAt: Date;
}

const docId = (botId: string, type: string, key: string): string => `${botId}|${type}|${key}`;

/** The AAD context: a value sealed for one key of one bot opens for no other. */
const contextOf = (id: string): string => `auth-state:${id}`;

const RESEAL_BATCH = 500;

/**
 * Provider auth keys, one document per key, written with per-key atomic upserts and sealed with
 * `secrets`. A store opened without a secret box refuses to hold credentials rather than keep
 * them in the clear.
 */
export function createAuthStateRepository(db: Db, secrets: SecretBox | undefined, clock: () => Date = () => new Date()): AuthStateStore {
  const auth: Collection<AuthDoc> = db.collection<AuthDoc>(COLLECTIONS.authState);

  const box = (): SecretBox => {
    if (secrets === undefined) throw ParleyError.of('CONFIG_INVALID', { problem: 'the store was opened without a secret key, so it keeps no provider credentials' });
    return secrets;
  };
  const seal = (id: string, value: unknown): SecretEnvelope => box().seal(BSON.serialize({ value }), contextOf(id));
  const valueOf = (doc: AuthDoc): unknown => (doc.sealed === undefined ? doc.value : BSON.deserialize(box().open(doc.sealed, contextOf(doc._id)))['value']);
  const isCurrent = (doc: AuthDoc): boolean => doc.sealed?.kid === box().currentKid;

  /** Seals a document's value anew, unless it changed since it was read (its IV, or its time while in the clear, tells). */
  const resealOp = (doc: AuthDoc, value: unknown): AnyBulkWriteOperation<AuthDoc> => {
    const unchanged: Filter<AuthDoc> = doc.sealed === undefined ? { _id: doc._id, sealed: { $exists: false }, updatedAt: doc.updatedAt } : { _id: doc._id, 'sealed.iv': doc.sealed.iv };
    return { updateOne: { filter: unchanged, update: { $set: { sealed: seal(doc._id, value) }, $unset: { value: '' } } } };
  };

  return {
    async get(botId, type, ids) {
      if (ids.length === 0) return {};
      const docs = await guard('authState.get', () =>
        auth.find({ _id: { $in: ids.map((id) => docId(botId, type, id)) } }).toArray(),
      );
      const values: Record<string, unknown> = {};
      const stale: AnyBulkWriteOperation<AuthDoc>[] = [];
      for (const doc of docs) {
        const value = valueOf(doc);
        values[doc.key] = value;
        if (!isCurrent(doc)) stale.push(resealOp(doc, value));
      }
      if (stale.length > 0) await guard('authState.reseal', () => auth.bulkWrite(stale, { ordered: false }));
      return values;
    },
    async set(botId, entries) {
      const now = clock();
      const ops: AnyBulkWriteOperation<AuthDoc>[] = [];
      for (const [type, values] of Object.entries(entries)) {
        for (const [key, value] of Object.entries(values)) {
          const _id = docId(botId, type, key);
          ops.push(
            value === null || value === undefined
              ? { deleteOne: { filter: { _id } } }
              : { updateOne: { filter: { _id }, update: { $set: { botId, type, key, sealed: seal(_id, value), updatedAt: now }, $unset: { value: '' } }, upsert: true } },
          );
        }
      }
      if (ops.length > 0) await guard('authState.set', () => auth.bulkWrite(ops, { ordered: false }));
    },
    async clear(botId) {
      const res = await guard('authState.clear', () => auth.deleteMany({ botId }));
      return res.deletedCount;
    },
    async reseal() {
      const counts = { resealed: 0, unreadable: 0 };
      let batch: AnyBulkWriteOperation<AuthDoc>[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const ops = batch;
        batch = [];
        counts.resealed += (await guard('authState.reseal', () => auth.bulkWrite(ops, { ordered: false }))).modifiedCount;
      };
      // Matches values in the clear too: they have no `sealed.kid`.
      const cursor = auth.find({ 'sealed.kid': { $ne: box().currentKid } });
      await guard('authState.reseal', async () => {
        for await (const doc of cursor) {
          let value: unknown;
          try {
            value = valueOf(doc);
          } catch (err) {
            if (!isParleyError(err, 'SECRET_UNREADABLE')) throw err;
            counts.unreadable += 1;
            continue;
          }
          batch.push(resealOp(doc, value));
          if (batch.length >= RESEAL_BATCH) await flush();
        }
        await flush();
      });
      return counts;
    },
  };
}
