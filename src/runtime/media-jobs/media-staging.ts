import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../../domain/backoff.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import type { Logger } from '../../logging/logger.ts';
import { MediaKeyError, MediaTooLargeError } from '../../ports/media-store.port.ts';
import type { MediaBytes, MediaStore, StagedFile } from '../../ports/media-store.port.ts';

/** Limits of the staging area. */
export interface StagingLimits {
  /** Most bytes staged at once, over every file (a running total, never a directory walk). */
  readonly quotaBytes: number;
  /** Largest single file. */
  readonly maxFileBytes: number;
  /** Downloads tried before the media counts as corrupt. */
  readonly downloadAttempts: number;
  readonly downloadBackoff: BackoffPolicy;
}

export const DEFAULT_STAGING_LIMITS: StagingLimits = {
  quotaBytes: 2 * 1024 ** 3,
  maxFileBytes: 64 * 1024 ** 2,
  downloadAttempts: 3,
  downloadBackoff: { baseMs: 250, maxMs: 2_000, jitter: 0.2 },
};

/** Where a download ended: a staged file, or the reason the media could not be had. */
export type StagingOutcome =
  | { readonly status: 'staged'; readonly key: string; readonly sizeBytes: number }
  | { readonly status: 'failed'; readonly reason: string };

/** What a download needs: the provider's fetch and, when reported, the declared size. */
export interface Downloadable {
  readonly sizeBytes: number | null;
  download(): Promise<MediaBytes>;
}

export interface MediaStagingDeps {
  readonly store: MediaStore;
  readonly limits: StagingLimits;
  readonly logger: Logger;
  readonly random?: () => number;
}

/**
 * The staging area in front of a media store: downloads land under fresh GUID names, counted
 * against a running total that the quota checks (bytes reserved before a download starts, so
 * concurrent downloads cannot overshoot together). A file leaves only through `release`, called
 * by the job lifecycle or the janitor's orphan sweep.
 */
export function createMediaStaging(deps: MediaStagingDeps) {
  const log = deps.logger.child({ scope: 'media-staging' });
  const sizes = new Map<string, number>();
  let staged = 0;
  let reserved = 0;
  const mb = (bytes: number) => (bytes >= 1024 ** 2 ? `${+(bytes / 1024 ** 2).toFixed(1)} MB` : bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KB` : `${bytes} bytes`);

  async function attempt(source: Downloadable, key: string, maxBytes: number): Promise<number> {
    const bytes = await source.download();
    const { sizeBytes } = await deps.store.put(key, bytes, { maxBytes });
    return sizeBytes;
  }

  return {
    /** Counts what a previous run left staged, so the quota starts from the truth. */
    async init(): Promise<void> {
      sizes.clear();
      staged = 0;
      for await (const file of deps.store.list()) {
        sizes.set(file.key, file.sizeBytes);
        staged += file.sizeBytes;
      }
      log.info({ files: sizes.size, stagedBytes: staged }, 'media staging ready');
    },

    /** Downloads and stores the media, retrying a failed download with backoff. */
    async stage(source: Downloadable): Promise<StagingOutcome> {
      const { quotaBytes, maxFileBytes, downloadAttempts, downloadBackoff } = deps.limits;
      if (source.sizeBytes !== null && source.sizeBytes > maxFileBytes) {
        return { status: 'failed', reason: `the file is larger than the ${mb(maxFileBytes)} limit` };
      }
      const free = quotaBytes - staged - reserved;
      // A declared size must fit whole; an unknown one may take what is free, up to the file cap.
      if (free <= 0 || (source.sizeBytes !== null && source.sizeBytes > free)) {
        return { status: 'failed', reason: `media staging is full (${mb(quotaBytes)} in use)` };
      }
      const limit = Math.min(maxFileBytes, free);
      const reservation = source.sizeBytes ?? limit;
      reserved += reservation;
      const key = randomUUID();
      try {
        let lastError = 'unknown error';
        for (let n = 1; n <= downloadAttempts; n++) {
          try {
            const sizeBytes = await attempt(source, key, limit);
            sizes.set(key, sizeBytes);
            staged += sizeBytes;
            return { status: 'staged', key, sizeBytes };
          } catch (err) {
            if (err instanceof MediaTooLargeError) {
              const reason = err.maxBytes < maxFileBytes ? `media staging is full (${mb(quotaBytes)} in use)` : `the file is larger than the ${mb(maxFileBytes)} limit`;
              return { status: 'failed', reason };
            }
            lastError = err instanceof Error ? err.message : String(err);
            log.warn({ attempt: n, err: lastError }, 'media download failed');
            if (n < downloadAttempts) await sleep(backoffDelay(n, downloadBackoff, (deps.random ?? Math.random)()));
          }
        }
        return { status: 'failed', reason: `the download failed ${downloadAttempts} times (${lastError})` };
      } finally {
        reserved -= reservation;
      }
    },

    /** The staged bytes; `null` when the file is gone. Store errors reject (a transient failure). */
    async read(key: string, signal?: AbortSignal): Promise<Uint8Array | null> {
      try {
        return await deps.store.get(key, signal);
      } catch (err) {
        if (err instanceof MediaKeyError) return null;
        throw err;
      }
    },

    /** Deletes a staged file once; releasing it again changes nothing. */
    async release(key: string): Promise<void> {
      const deleted = await deps.store.delete(key);
      const size = sizes.get(key);
      sizes.delete(key);
      if (deleted && size !== undefined) staged -= size;
    },

    /** Every staged file, for the orphan sweep. */
    list(): AsyncIterable<StagedFile> {
      return deps.store.list();
    },

    /** Bytes staged now. */
    stagedBytes: (): number => staged,
    close: (): Promise<void> => deps.store.close(),
  };
}

export type MediaStaging = ReturnType<typeof createMediaStaging>;
