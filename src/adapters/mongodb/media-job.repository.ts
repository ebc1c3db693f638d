import type { Db } from 'mongodb';
import type { MediaJobData, MediaJobState, MediaJobStore } from '../../ports/media-job-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';
import { createWorkQueueRepository } from './work-queue.repository.ts';

/** The media job queue: claimed in fair order across bots, in no order within a bot. */
export function createMediaJobRepository(db: Db): MediaJobStore {
  const queue = createWorkQueueRepository<MediaJobData, MediaJobState>(db, {
    collection: COLLECTIONS.mediaJobs,
    name: 'mediaJobs',
    claimedState: 'processing',
    lines: null,
  });
  const items = db.collection<{ _id: string; mediaKey?: string | null }>(COLLECTIONS.mediaJobs);
  return {
    ...queue,
    async referencedMediaKeys(keys) {
      if (keys.length === 0) return new Set();
      const docs = await guard('mediaJobs.referencedMediaKeys', () =>
        items.find({ mediaKey: { $in: [...keys] } }, { projection: { _id: 0, mediaKey: 1 } }).toArray(),
      );
      return new Set(docs.flatMap((d) => (typeof d.mediaKey === 'string' ? [d.mediaKey] : [])));
    },
    async assignPool(id, expectedVersion, pool) {
      // Routing data, not a transition: the version is checked so a claim or transition in between
      // wins, and left alone so the job's actor writes on without a conflict.
      const res = await guard('mediaJobs.assignPool', () =>
        items.updateOne({ _id: id, version: expectedVersion, state: { $in: ['pending', 'holding'] } }, { $set: { pool } }),
      );
      return res.modifiedCount === 1;
    },
  };
}
