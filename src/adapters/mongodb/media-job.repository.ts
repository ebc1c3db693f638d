import type { Collection, Db, Filter } from 'mongodb';
import type { MediaJobRecord, MediaJobState, MediaJobStore } from '../../ports/media-job-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { createFairSequencer } from './fair-sequencer.ts';
import { guard } from './mongo-errors.ts';

type MediaJobDoc = Omit<MediaJobRecord, 'id'> & { _id: string };

function toRecord({ _id, ...rest }: MediaJobDoc): MediaJobRecord {
  return { id: _id, ...rest };
}

/** The media job queue: one atomic claim, fenced transitions after it. */
export function createMediaJobRepository(db: Db): MediaJobStore {
  const jobs: Collection<MediaJobDoc> = db.collection<MediaJobDoc>(COLLECTIONS.mediaJobs);
  const fairness = createFairSequencer(db);
  const fenced = (id: string, attempt: number): Filter<MediaJobDoc> => ({ _id: id, attempt, state: 'processing' });

  return {
    async insert(job, now) {
      const fairSeq = await fairness.next(job.botId);
      const doc: MediaJobDoc = {
        _id: job.id,
        botId: job.botId,
        correspondentId: job.correspondentId,
        messageId: job.messageId,
        kind: job.kind,
        mimetype: job.mimetype,
        mediaPath: job.mediaPath,
        maxAttempts: job.maxAttempts,
        state: 'pending',
        attempt: 0,
        owner: null,
        leaseUntil: null,
        notBefore: now,
        fairSeq,
        result: null,
        error: null,
        createdAt: now,
        updatedAt: now,
      };
      await guard('mediaJobs.insert', () => jobs.insertOne(doc));
      return toRecord(doc);
    },
    async get(id) {
      const doc = await guard('mediaJobs.get', () => jobs.findOne({ _id: id }));
      return doc === null ? null : toRecord(doc);
    },
    async claim({ owner, leaseMs, now, kinds }) {
      const filter: Filter<MediaJobDoc> = {
        state: 'pending',
        notBefore: { $lte: now },
        ...(kinds === undefined ? {} : { kind: { $in: [...kinds] } }),
      };
      const doc = await guard('mediaJobs.claim', () =>
        jobs.findOneAndUpdate(
          filter,
          { $set: { state: 'processing', owner, leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now }, $inc: { attempt: 1 } },
          { sort: { fairSeq: 1, createdAt: 1 }, returnDocument: 'after' },
        ),
      );
      if (doc === null) return null;
      fairness.observeClaimed(doc.fairSeq);
      return toRecord(doc);
    },
    async heartbeat(id, attempt, leaseUntil) {
      const res = await guard('mediaJobs.heartbeat', () => jobs.updateOne(fenced(id, attempt), { $set: { leaseUntil } }));
      return res.matchedCount === 1;
    },
    async complete(id, attempt, result, now) {
      const res = await guard('mediaJobs.complete', () =>
        jobs.updateOne(fenced(id, attempt), { $set: { state: 'completed', result, owner: null, leaseUntil: null, updatedAt: now } }),
      );
      return res.matchedCount === 1;
    },
    async fail(id, attempt, error, retryAt, now) {
      const next = retryAt === null ? { state: 'failed' as const } : { state: 'pending' as const, notBefore: retryAt };
      const res = await guard('mediaJobs.fail', () =>
        jobs.updateOne(fenced(id, attempt), { $set: { ...next, error, owner: null, leaseUntil: null, updatedAt: now } }),
      );
      return res.matchedCount === 1;
    },
    async markDelivered(id, now) {
      const res = await guard('mediaJobs.markDelivered', () =>
        jobs.updateOne({ _id: id, state: 'completed' }, { $set: { state: 'delivered', updatedAt: now } }),
      );
      return res.matchedCount === 1;
    },
    async list({ botId, states, limit }) {
      const filter: Filter<MediaJobDoc> = {
        ...(botId === undefined ? {} : { botId }),
        ...(states === undefined ? {} : { state: { $in: [...states] } }),
      };
      const docs = await guard('mediaJobs.list', () => jobs.find(filter).sort({ createdAt: 1, _id: 1 }).limit(limit ?? 0).toArray());
      return docs.map(toRecord);
    },
    async countByState(botId) {
      const match = botId === undefined ? {} : { botId };
      const rows = await guard('mediaJobs.countByState', () =>
        jobs.aggregate<{ _id: MediaJobState; n: number }>([{ $match: match }, { $group: { _id: '$state', n: { $sum: 1 } } }]).toArray(),
      );
      return Object.fromEntries(rows.map((r) => [r._id, r.n]));
    },
  };
}
