import type { Collection, Db, Filter } from 'mongodb';
import type { MediaJobRecord, MediaJobState, MediaJobStore } from '../../ports/media-job-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { createFairSequencer } from './fair-sequencer.ts';
import { guard } from './mongo-errors.ts';

type MediaJobDoc = Omit<MediaJobRecord, 'id' | 'effects'> & { _id: string; kind: string; actorKind: 'media-job'; effects?: MediaJobRecord['effects'] };

function toRecord({ _id, actorKind: _actorKind, effects, ...rest }: MediaJobDoc): MediaJobRecord {
  return { id: _id, ...rest, effects: effects ?? [] };
}

/** The media job queue: one atomic claim, then compare-and-set transitions decided by the machine. */
export function createMediaJobRepository(db: Db): MediaJobStore {
  const jobs: Collection<MediaJobDoc> = db.collection<MediaJobDoc>(COLLECTIONS.mediaJobs);
  const fairness = createFairSequencer(db);

  return {
    async insert(job, now) {
      const fairSeq = await fairness.next(job.botId);
      const doc: MediaJobDoc = {
        _id: job.id,
        actorKind: 'media-job',
        botId: job.botId,
        correspondentId: job.correspondentId,
        messageId: job.messageId,
        kind: job.kind,
        mimetype: job.mimetype,
        mediaPath: job.mediaPath,
        state: 'pending',
        statePath: 'pending',
        attempt: 0,
        owner: null,
        leaseUntil: null,
        notBefore: now,
        fairSeq,
        error: null,
        version: 1,
        machineVersion: job.machineVersion,
        snapshot: job.snapshot,
        effects: [],
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
          {
            $set: { state: 'processing', statePath: 'processing', owner, leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now },
            $inc: { attempt: 1, version: 1 },
          },
          { sort: { fairSeq: 1, createdAt: 1 }, returnDocument: 'after' },
        ),
      );
      if (doc === null) return null;
      fairness.observeClaimed(doc.fairSeq);
      return toRecord(doc);
    },
    async compareAndSet(id, expectedVersion, write, now) {
      const { effects = [], ...fields } = write;
      const doc = await guard('mediaJobs.compareAndSet', () =>
        jobs.findOneAndUpdate(
          { _id: id, version: expectedVersion },
          {
            $set: { ...fields, notBefore: fields.notBefore ?? new Date(0), updatedAt: now },
            $inc: { version: 1 },
            ...(effects.length === 0 ? {} : { $push: { effects: { $each: [...effects] } } }),
          },
          { returnDocument: 'after' },
        ),
      );
      return doc === null ? null : toRecord(doc);
    },
    async acknowledgeEffects(id, effectIds) {
      await guard('mediaJobs.acknowledgeEffects', () => jobs.updateOne({ _id: id }, { $pull: { effects: { id: { $in: [...effectIds] } } } }));
    },
    async list({ botId, states, leaseBefore, withEffects, after, limit }) {
      const filter: Filter<MediaJobDoc> = {
        ...(withEffects === true ? { 'effects.0': { $exists: true } } : {}),
        ...(botId === undefined ? {} : { botId }),
        ...(states === undefined ? {} : { state: { $in: [...states] } }),
        ...(leaseBefore === undefined ? {} : { leaseUntil: { $lt: leaseBefore } }),
        ...(after === undefined ? {} : { $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, _id: { $gt: after.id } }] }),
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
    async delete(id) {
      const res = await guard('mediaJobs.delete', () => jobs.deleteOne({ _id: id }));
      return res.deletedCount === 1;
    },
    async deleteByBot(botId) {
      const res = await guard('mediaJobs.deleteByBot', () => jobs.deleteMany({ botId }));
      await fairness.forget(botId);
      return res.deletedCount;
    },
  };
}
