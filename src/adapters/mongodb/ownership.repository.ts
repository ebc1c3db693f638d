import type { Collection, Db, Document } from 'mongodb';
import type { BotLease, OwnershipStore } from '../../ports/ownership-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard, isDuplicateKey } from './mongo-errors.ts';

interface LeaseDoc {
  _id: string;
  owner: string;
  epoch: number;
  leaseUntil: Date;
}

/** What a released lease expires at: long past, so anyone may take it, and told apart from a live one. */
const RELEASED = new Date(0);

const toLease = ({ _id, owner, epoch, leaseUntil }: LeaseDoc): BotLease => ({ botId: _id, owner, epoch, leaseUntil });

/**
 * One document per bot in `bot_leases`. Every change is a single conditional write on that
 * document, so the database decides each race: no read-then-write window exists.
 */
export function createOwnershipRepository(db: Db): OwnershipStore {
  const leases: Collection<LeaseDoc> = db.collection<LeaseDoc>(COLLECTIONS.botLeases);
  const held = (botId: string, owner: string, epoch: number, now: Date) => ({ _id: botId, owner, epoch, leaseUntil: { $gt: now } });

  return {
    async acquire(botId, owner, now, leaseMs) {
      // Takeable: ours already, or lapsed (released included). A missing document is upserted.
      const takeable = { _id: botId, $or: [{ owner }, { leaseUntil: { $lte: now } }] };
      // A pipeline reads the previous owner in the same write: the epoch moves only when the bot
      // changes hands. Values are literals so an owner id starting with `$` is never a field path.
      const take: Document[] = [{
        $set: {
          epoch: { $cond: [{ $eq: ['$owner', { $literal: owner }] }, '$epoch', { $add: [{ $ifNull: ['$epoch', 0] }, 1] }] },
          owner: { $literal: owner },
          leaseUntil: { $literal: new Date(now.getTime() + leaseMs) },
        },
      }];
      return guard('ownership.acquire', async () => {
        try {
          const doc = await leases.findOneAndUpdate(takeable, take, { upsert: true, returnDocument: 'after' });
          return doc === null ? null : toLease(doc);
        } catch (err) {
          // The document exists and someone else holds it live, or a concurrent upsert of a missing
          // one inserted first: either way the upsert's insert collides on `_id`, and we lost.
          if (isDuplicateKey(err)) return null;
          throw err;
        }
      });
    },
    async renew(botId, owner, epoch, now, leaseMs) {
      // Only a live lease is extended: once it lapsed, another instance may already have taken it.
      const res = await guard('ownership.renew', () =>
        leases.updateOne(held(botId, owner, epoch, now), { $set: { leaseUntil: new Date(now.getTime() + leaseMs) } }),
      );
      return res.matchedCount === 1;
    },
    async release(botId, owner, epoch) {
      // Owner and epoch stay, so the next taker bumps the epoch; a second release matches nothing.
      const res = await guard('ownership.release', () =>
        leases.updateOne({ _id: botId, owner, epoch, leaseUntil: { $gt: RELEASED } }, { $set: { leaseUntil: RELEASED } }),
      );
      return res.matchedCount === 1;
    },
    async get(botId) {
      const doc = await guard('ownership.get', () => leases.findOne({ _id: botId }));
      return doc === null ? null : toLease(doc);
    },
    async list() {
      const docs = await guard('ownership.list', () => leases.find({}).sort({ _id: 1 }).toArray());
      return docs.map(toLease);
    },
    async holds(botId, owner, epoch, now) {
      const doc = await guard('ownership.holds', () => leases.findOne(held(botId, owner, epoch, now), { projection: { _id: 1 } }));
      return doc !== null;
    },
    async delete(botId) {
      await guard('ownership.delete', () => leases.deleteOne({ _id: botId }));
    },
  };
}
