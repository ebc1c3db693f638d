import type { Collection, Db, Filter } from 'mongodb';
import type { OutboxRecord, OutboxStore } from '../../ports/outbox-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

type OutboxDoc = Omit<OutboxRecord, 'id'> & { _id: string };

const toRecord = ({ _id, ...rest }: OutboxDoc): OutboxRecord => ({ id: _id, ...rest });

/** Persistent outbox: a message is claimed for sending, then marked sent or rescheduled. */
export function createOutboxRepository(db: Db): OutboxStore {
  const outbox: Collection<OutboxDoc> = db.collection<OutboxDoc>(COLLECTIONS.outbox);
  const fenced = (id: string, attempt: number): Filter<OutboxDoc> => ({ _id: id, attempt, state: 'sending' });
  return {
    async enqueue(message, now) {
      const doc: OutboxDoc = {
        _id: message.id,
        botId: message.botId,
        to: message.to,
        text: message.text,
        state: 'pending',
        attempt: 0,
        nextAttemptAt: now,
        owner: null,
        leaseUntil: null,
        lastError: null,
        createdAt: now,
        updatedAt: now,
      };
      await guard('outbox.enqueue', () => outbox.insertOne(doc));
      return toRecord(doc);
    },
    async claimDue(botId, owner, now, leaseMs) {
      // A lapsed `sending` row keeps its place in the order, so a recovered message goes out first.
      // One with no lease at all was claimed by a version that set none, and is as good as lapsed.
      const due: Filter<OutboxDoc> = {
        botId,
        $or: [
          { state: 'pending', nextAttemptAt: { $lte: now } },
          { state: 'sending', leaseUntil: { $lte: now } },
          { state: 'sending', leaseUntil: null },
        ],
      };
      const doc = await guard('outbox.claimDue', () =>
        outbox.findOneAndUpdate(
          due,
          { $set: { state: 'sending', owner, leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now }, $inc: { attempt: 1 } },
          { sort: { nextAttemptAt: 1, createdAt: 1 }, returnDocument: 'after' },
        ),
      );
      return doc === null ? null : toRecord(doc);
    },
    async markSent(id, attempt, now) {
      const res = await guard('outbox.markSent', () =>
        outbox.updateOne(fenced(id, attempt), { $set: { state: 'sent', owner: null, leaseUntil: null, updatedAt: now } }),
      );
      return res.matchedCount === 1;
    },
    async markFailed(id, attempt, error, retryAt, now) {
      const next = retryAt === null ? { state: 'failed' as const } : { state: 'pending' as const, nextAttemptAt: retryAt };
      const res = await guard('outbox.markFailed', () =>
        outbox.updateOne(fenced(id, attempt), { $set: { ...next, lastError: error, owner: null, leaseUntil: null, updatedAt: now } }),
      );
      return res.matchedCount === 1;
    },
    async list(botId, options = {}) {
      const filter: Filter<OutboxDoc> = { botId, ...(options.states === undefined ? {} : { state: { $in: [...options.states] } }) };
      const docs = await guard('outbox.list', () => outbox.find(filter).sort({ createdAt: 1, _id: 1 }).limit(options.limit ?? 0).toArray());
      return docs.map(toRecord);
    },
    async deleteByBot(botId) {
      const res = await guard('outbox.deleteByBot', () => outbox.deleteMany({ botId }));
      return res.deletedCount;
    },
  };
}
