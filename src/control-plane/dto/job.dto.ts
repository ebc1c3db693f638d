import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { MediaJobState } from '../../ports/media-job-store.port.ts';
import { BOT_ID_PATTERN, Nullable, StringEnum, Timestamp } from './common.dto.ts';

/** Every media-job state; the compile-time check below fails when the port gains one. */
export const JOB_STATES = ['pending', 'processing', 'holding', 'completed', 'delivered', 'failed', 'discarded'] as const satisfies readonly MediaJobState[];
type MissingJobState = Exclude<MediaJobState, (typeof JOB_STATES)[number]>;
const _everyJobStateListed: [MissingJobState] extends [never] ? true : MissingJobState = true;

/** `GET /v1/jobs` filters and paging. */
export const JobListQuery = Type.Object(
  {
    botId: Type.Optional(Type.String({ pattern: BOT_ID_PATTERN })),
    state: Type.Optional(StringEnum(JOB_STATES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Jobs per page' })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'The nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type JobListQuery = Static<typeof JobListQuery>;

/** A media job as operators see it. */
export const JobView = Type.Object({
  id: Type.String(),
  botId: Type.String(),
  correspondentId: Type.String(),
  messageId: Type.Integer({ description: 'The placeholder message the job finalizes' }),
  kind: Type.String({ description: 'Media kind: voice, audio, image, sticker, video, document' }),
  mimetype: Type.String(),
  pool: Nullable(Type.String({ description: 'The worker pool the job is routed to' })),
  sizeBytes: Nullable(Type.Integer({ minimum: 0, description: 'Size of the staged file; null when the media could not be staged' })),
  state: StringEnum(JOB_STATES),
  statePath: Type.String({ description: 'Full machine state, e.g. failed.notified' }),
  attempt: Type.Integer({ minimum: 0 }),
  error: Nullable(Type.String({ description: 'Why the last attempt failed, or why the media could not be read' })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'JobView' });
export type JobView = Static<typeof JobView>;

/** Oldest first (by creation, then id), an order no state change disturbs. */
export const JobList = Type.Object({
  jobs: Type.Array(JobView),
  nextCursor: Nullable(Type.String({ description: 'Pass as `after` for the next page; null on the last page' })),
}, { $id: 'JobList' });
export type JobList = Static<typeof JobList>;
