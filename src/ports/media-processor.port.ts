import type { MediaOutcome } from '../domain/media-content.ts';
import type { MediaKind } from '../domain/media-kind.ts';

/** One staged media file as a processor receives it: its bytes and what the message said about it. */
export interface MediaToProcess {
  /** The job, for logs and for processors that keep per-job state (tests, benchmarks). */
  readonly jobId: string;
  readonly botId: string;
  /** The conversation and the placeholder's message id the text will replace. */
  readonly correspondentId: string;
  readonly messageId: number;
  /** The job's claim number; a retry of the same job has a higher one. */
  readonly attempt: number;
  readonly kind: MediaKind;
  readonly mimetype: string;
  readonly caption: string | null;
  readonly fileName: string | null;
  /** The bot's BCP-47 language hint (`media.language`), for processors that take one. */
  readonly language: string | null;
  readonly bytes: Uint8Array;
}

/**
 * Turns one media file into text. Resolves `processed` with the text, or `unreadable` with a
 * reason a reader of the conversation understands (corrupt file, no OpenAI key, too large).
 * Throwing means a transient failure (rate limit, server error, network, timeout): the job is
 * tried again with backoff while it has attempts left. A processor never deletes the file.
 */
export type MediaProcessor = (media: MediaToProcess, signal: AbortSignal) => Promise<MediaOutcome>;

/** Processors by the name pools refer to them with (`transcribe`, `describe-image`, …). */
export type MediaProcessors = Readonly<Record<string, MediaProcessor>>;
