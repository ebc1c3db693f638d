import type { WorkItem, WorkItemListFilter, WorkItemPosition, WorkItemWrite, WorkQueueStore, NewWorkItem, ClaimRequest } from './work-queue.port.ts';

/** Top-level states of the media-job machine, as stored in the `state` field. */
export type MediaJobState = 'pending' | 'processing' | 'holding' | 'completed' | 'delivered' | 'failed' | 'discarded';

/** What a media job stores beside the work queue's fields. Its `kind` is the media kind. */
export interface MediaJobData {
  readonly correspondentId: string;
  /** Queue message id of the placeholder this job finalizes. */
  readonly messageId: number;
  readonly mimetype: string;
  readonly mediaPath: string | null;
}

/** A media job as stored: the claimable work item behind one placeholder, and the media-job actor's snapshot. */
export type MediaJobRecord = WorkItem<MediaJobData, MediaJobState>;
export type NewMediaJob = NewWorkItem<MediaJobData>;
export type MediaJobWrite = WorkItemWrite<MediaJobState>;
export type MediaJobListFilter = WorkItemListFilter<MediaJobState>;
export type MediaJobPosition = WorkItemPosition;
export type { ClaimRequest };

/** The media job queue: the work queue of media jobs. */
export type MediaJobStore = WorkQueueStore<MediaJobData, MediaJobState>;
