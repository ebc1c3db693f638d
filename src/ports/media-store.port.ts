/** Bytes as a provider hands them over: whole, or streamed in chunks. */
export type MediaBytes = Uint8Array | AsyncIterable<Uint8Array>;

/** One staged file as the store lists it. */
export interface StagedFile {
  /** The file's name in the store: always a GUID (I10). */
  readonly key: string;
  readonly sizeBytes: number;
  readonly modifiedAt: Date;
}

/** Options of one write. */
export interface MediaPutOptions {
  /**
   * Most bytes the file may have. A longer stream is cut off, nothing of it stays in the store,
   * and `put` rejects with `MediaTooLargeError`.
   */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

/** A write stopped because the file grew past its cap. */
export class MediaTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`media exceeds ${maxBytes} bytes`);
    this.name = 'MediaTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** A key that is not a GUID, or a file the store does not hold. */
export class MediaKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaKeyError';
  }
}

/**
 * Where downloaded media waits for its job (local directory, S3-compatible bucket). Keys are
 * GUIDs chosen by the caller; a write is atomic (a crash or an oversized stream leaves no partial
 * file under the key). Files are deleted by the job lifecycle only.
 */
export interface MediaStore {
  /** Writes the bytes under `key` atomically; resolves with the size written. */
  put(key: string, bytes: MediaBytes, options: MediaPutOptions): Promise<{ readonly sizeBytes: number }>;
  /** The file's bytes; rejects with `MediaKeyError` when it is not there. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** Removes the file; `false` when it was not there (a second delete is no error). */
  delete(key: string): Promise<boolean>;
  /** Every staged file (the janitor's orphan sweep and the quota's starting total). */
  list(): AsyncIterable<StagedFile>;
  /** Releases clients and handles. */
  close(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `key` is a GUID in canonical lower-case form, the only names a media store accepts. */
export function isMediaKey(key: string): boolean {
  return GUID.test(key);
}
