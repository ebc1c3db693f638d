import type { WorkItem, WorkItemListFilter, WorkItemPosition, WorkItemWrite, WorkQueueStore, NewWorkItem, ClaimRequest } from './work-queue.port.ts';

/** Top-level states of the media-job machine, as stored in the `state` field. */
export type MediaJobState = 'pending' | 'processing' | 'holding' | 'completed' | 'delivered' | 'failed' | 'discarded';

/** What a media job stores beside the work queue's fields. Its `kind` is the media kind. */
export interface MediaJobData {
  readonly correspondentId: string;
  /** Queue message id of the placeholder this job finalizes. */
  readonly messageId: number;
  readonly mimetype: string;
  /** What the message said about the media; processors may use both (a document's type, a picture's context). */
  readonly caption: string | null;
  readonly fileName: string | null;
  /** The staged file in the media store (a GUID); `null` when there is none (the download failed). */
  readonly mediaKey: string | null;
  /** Size of the staged file, counted against the staging quota until the file is released. */
  readonly sizeBytes: number | null;
  /** Why the media could not be staged (download failed, too large); the job then ends with this note. */
  readonly stagingError: string | null;
  /** The worker pool that processes the job, e.g. `voice`, or `<botId>/voice` for a bot's own pool. */
  readonly pool: string;
}

/** A media job as stored: the claimable work item behind one placeholder, and the media-job actor's snapshot. */
export type MediaJobRecord = WorkItem<MediaJobData, MediaJobState>;
export type NewMediaJob = NewWorkItem<MediaJobData>;
export type MediaJobWrite = WorkItemWrite<MediaJobState>;
export type MediaJobListFilter = WorkItemListFilter<MediaJobState>;
export type MediaJobPosition = WorkItemPosition;
export type { ClaimRequest };

/** The media job queue: the work queue of media jobs. */
export interface MediaJobStore extends WorkQueueStore<MediaJobData, MediaJobState> {
  /** Of these staged-file keys, the ones some job still refers to (the janitor's orphan check). */
  referencedMediaKeys(keys: readonly string[]): Promise<Set<string>>;
  /** Points an unclaimed (`pending` or `holding`) job at another pool; `false` when the job changed meanwhile. */
  assignPool(id: string, expectedVersion: number, pool: string): Promise<boolean>;
}
