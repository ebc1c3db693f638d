import type { Collection, Db } from 'mongodb';
import type { BotRecord, BotStore } from '../../ports/bot-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

type BotDoc = Omit<BotRecord, 'id'> & { _id: string };

const toRecord = ({ _id, ...rest }: BotDoc): BotRecord => ({ id: _id, ...rest });

/** Bot definitions. */
export function createBotRepository(db: Db): BotStore {
  const bots: Collection<BotDoc> = db.collection<BotDoc>(COLLECTIONS.bots);
  return {
    async create(bot, now) {
      const doc: BotDoc = { _id: bot.id, provider: bot.provider, settings: bot.settings, desiredState: bot.desiredState, createdAt: now, updatedAt: now };
      await guard('bots.create', () => bots.insertOne(doc));
      return toRecord(doc);
    },
    async get(id) {
      const doc = await guard('bots.get', () => bots.findOne({ _id: id }));
      return doc === null ? null : toRecord(doc);
    },
    async list() {
      const docs = await guard('bots.list', () => bots.find({}).sort({ _id: 1 }).toArray());
      return docs.map(toRecord);
    },
    async update(id, patch, now) {
      const doc = await guard('bots.update', () =>
        bots.findOneAndUpdate({ _id: id }, { $set: { ...patch, updatedAt: now } }, { returnDocument: 'after' }),
      );
      return doc === null ? null : toRecord(doc);
    },
    async delete(id) {
      const res = await guard('bots.delete', () => bots.deleteOne({ _id: id }));
      return res.deletedCount === 1;
    },
  };
}
