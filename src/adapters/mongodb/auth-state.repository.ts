import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import type { AuthStateStore } from '../../ports/auth-state-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

interface AuthDoc {
  _id: string;
  botId: string;
  type: string;
  key: string;
  value: unknown;
  updatedAt: Date;
}

const docId = (botId: string, type: string, key: string): string => `${botId}|${type}|${key}`;

/** Provider auth keys, one document per key, written with per-key atomic upserts. */
export function createAuthStateRepository(db: Db, clock: () => Date = () => new Date()): AuthStateStore {
  const auth: Collection<AuthDoc> = db.collection<AuthDoc>(COLLECTIONS.authState);
  return {
    async get(botId, type, ids) {
      if (ids.length === 0) return {};
      const docs = await guard('authState.get', () =>
        auth.find({ _id: { $in: ids.map((id) => docId(botId, type, id)) } }).toArray(),
      );
      return Object.fromEntries(docs.map((d) => [d.key, d.value]));
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
              : { updateOne: { filter: { _id }, update: { $set: { botId, type, key, value, updatedAt: now } }, upsert: true } },
          );
        }
      }
      if (ops.length > 0) await guard('authState.set', () => auth.bulkWrite(ops, { ordered: false }));
    },
    async clear(botId) {
      const res = await guard('authState.clear', () => auth.deleteMany({ botId }));
      return res.deletedCount;
    },
  };
}
