import type { MediaOutcome } from '../domain/media-content.ts';
import type { MediaJobRecord } from './media-job-store.port.ts';

/** Turns one job's media into text. Throwing means a transient failure (retried with backoff). */
export type MediaProcessor = (job: MediaJobRecord, signal: AbortSignal) => Promise<MediaOutcome>;
