import { MongoBulkWriteError } from 'mongodb';
import type { Collection, Db } from 'mongodb';
import type { HistoryRecord, HistoryStore, Receipt } from '../../ports/history-store.port.ts';
import { COLLECTIONS, PROVIDER_ID_INDEX } from './collections.ts';
import { guard, translateMongoError } from './mongo-errors.ts';

type HistoryDoc = HistoryRecord & { _id: string };

const toRecord = ({ _id: _ignored, ...rest }: HistoryDoc): HistoryRecord => rest;

/** Receipts a newer one may replace: each says more than those before it; nothing follows `failed`. */
const EARLIER_RECEIPTS: Readonly<Record<Receipt['status'], readonly Receipt['status'][]>> = {
  sent: [],
  delivered: ['sent'],
  read: ['sent', 'delivered'],
  failed: ['sent', 'delivered', 'read'],
};
const docId = (r: Pick<HistoryRecord, 'botId' | 'correspondentId' | 'seq'>): string => `${r.botId}|${r.correspondentId}|${r.seq}`;

/** Conversation history. Rows are keyed by conversation and seq so a retried append is idempotent. */
export function createHistoryRepository(db: Db): HistoryStore {
  const messages: Collection<HistoryDoc> = db.collection<HistoryDoc>(COLLECTIONS.messages);
  return {
    async append(records) {
      if (records.length === 0) return { inserted: 0, duplicates: [], seqTaken: [] };
      const docs = records.map((r) => ({ _id: docId(r), ...r }));
      try {
        const res = await messages.insertMany(docs, { ordered: false });
        return { inserted: res.insertedCount, duplicates: [], seqTaken: [] };
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError)) throw translateMongoError(err, 'history.append');
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        // No write errors means the batch failed as a whole (a lost connection) or its write concern
        // did (the rows may not survive a failover): none of them is reported durable.
        const other = errors.find((e) => e.code !== 11000);
        if (errors.length === 0 || other !== undefined || err.result.getWriteConcernError() !== undefined) throw translateMongoError(err, 'history.append');
        // Only the provider-id index makes a replay; `_id` and the seq index mean the seq is taken.
        const isReplay = (e: { errmsg?: string }) => (e.errmsg ?? '').includes(PROVIDER_ID_INDEX);
        const positions = (keep: (e: (typeof errors)[number]) => boolean) => errors.filter(keep).map((e) => e.index).sort((a, b) => a - b);
        return { inserted: err.result.insertedCount, duplicates: positions(isReplay), seqTaken: positions((e) => !isReplay(e)) };
      }
    },
    async finalize(botId, mediaJobId, content, status, now) {
      const res = await guard('history.finalize', () =>
        messages.updateOne({ botId, mediaJobId, status: 'placeholder' }, { $set: { content, status, finalizedAt: now } }),
      );
      return res.matchedCount === 1;
    },
    async reopen(botId, mediaJobId, content) {
      const res = await guard('history.reopen', () =>
        messages.updateOne({ botId, mediaJobId, status: { $in: ['final', 'failed'] } }, { $set: { content, status: 'placeholder', finalizedAt: null } }),
      );
      return res.matchedCount === 1;
    },
    async list(botId, correspondentId, options = {}) {
      const filter: Record<string, unknown> = { botId, correspondentId };
      if (options.beforeSeq !== undefined) filter['seq'] = { $lt: options.beforeSeq };
      const docs = await guard('history.list', () =>
        messages.find(filter).sort({ seq: -1 }).limit(options.limit ?? 100).toArray(),
      );
      return docs.reverse().map(toRecord);
    },
    async settleOutbound(botId, correspondentId, seq, outcome, now) {
      const fields = outcome.status === 'sent'
        ? { status: 'sent' as const, providerMessageId: outcome.providerMessageId, finalizedAt: now }
        : { status: 'failed' as const, error: outcome.error, finalizedAt: now };
      const res = await guard('history.settleOutbound', () =>
        messages.updateOne({ botId, correspondentId, seq, direction: 'outbound' }, { $set: fields }),
      );
      return res.matchedCount === 1;
    },
    async recordReceipt(botId, correspondentId, providerMessageId, receipt) {
      const fields = receipt.status === 'failed'
        ? { receipt, status: 'failed' as const, error: receipt.error ?? 'failed' }
        : { receipt };
      const res = await guard('history.recordReceipt', () =>
        messages.updateOne(
          {
            botId, correspondentId, providerMessageId: { $eq: providerMessageId, $type: 'string' }, direction: 'outbound',
            $or: [{ receipt: { $exists: false } }, { receipt: null }, { 'receipt.status': { $in: EARLIER_RECEIPTS[receipt.status] } }],
          },
          { $set: fields },
        ),
      );
      return res.modifiedCount === 1;
    },
    async listBySeq(botId, correspondentId, runs) {
      if (runs.length === 0) return [];
      // Each run is one range scan of the (botId, correspondentId, seq) index.
      const ranges = runs.map(([first, last]) => ({ seq: { $gte: first, $lte: last } }));
      const filter = ranges.length === 1 ? { botId, correspondentId, ...ranges[0] } : { botId, correspondentId, $or: ranges };
      const docs = await guard('history.listBySeq', () => messages.find(filter).sort({ seq: 1 }).toArray());
      return docs.map(toRecord);
    },
    async findOutbound(botId, correspondentId, outboxId) {
      const doc = await guard('history.findOutbound', () => messages.findOne({ botId, correspondentId, outboxId, direction: 'outbound' }));
      return doc === null ? null : toRecord(doc);
    },
    async findByProviderMessageId(botId, correspondentId, providerMessageId) {
      // The `$type` condition is the partial index's own filter: without it MongoDB's planner may not use the index.
      const doc = await guard('history.findByProviderMessageId', () =>
        messages.findOne({ botId, correspondentId, providerMessageId: { $eq: providerMessageId, $type: 'string' } }),
      );
      return doc === null ? null : toRecord(doc);
    },
    async listPlaceholders(before, limit) {
      const docs = await guard('history.listPlaceholders', () =>
        messages.find({ status: 'placeholder', acceptedAt: { $lt: before } }).sort({ acceptedAt: 1 }).limit(limit).toArray(),
      );
      return docs.map(toRecord);
    },
    async maxSeq(botId, correspondentId) {
      const doc = await guard('history.maxSeq', () =>
        messages.find({ botId, correspondentId }, { projection: { seq: 1 } }).sort({ seq: -1 }).limit(1).next(),
      );
      return doc?.seq ?? 0;
    },
    async deleteByBot(botId) {
      const res = await guard('history.deleteByBot', () => messages.deleteMany({ botId }));
      return res.deletedCount;
    },
  };
}
