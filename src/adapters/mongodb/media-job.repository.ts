import type { Db } from 'mongodb';
import type { MediaJobData, MediaJobState, MediaJobStore } from '../../ports/media-job-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { createWorkQueueRepository } from './work-queue.repository.ts';

/** The media job queue: claimed in fair order across bots, in no order within a bot. */
export function createMediaJobRepository(db: Db): MediaJobStore {
  return createWorkQueueRepository<MediaJobData, MediaJobState>(db, {
    collection: COLLECTIONS.mediaJobs,
    name: 'mediaJobs',
    claimedState: 'processing',
    lines: null,
  });
}
