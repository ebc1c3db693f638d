import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { MediaKeyError, MediaTooLargeError, isMediaKey } from '../../ports/media-store.port.ts';
import type { MediaBytes, MediaPutOptions, MediaStore, StagedFile } from '../../ports/media-store.port.ts';

export interface S3MediaStoreOptions {
  readonly bucket: string;
  /** A folder inside the bucket (`parley/media` and `parley/media/` are the same); none by default. */
  readonly prefix?: string;
  /** An S3-compatible service (MinIO, …); AWS itself when absent. */
  readonly endpoint?: string;
  readonly region: string;
  /** `bucket` in the path instead of the host name, which most self-hosted services need. */
  readonly forcePathStyle?: boolean;
  /** Without them the SDK's default chain applies (environment, instance role, …). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * Media staged as objects in an S3-compatible bucket, named by their GUID key under `prefix`.
 * A PutObject is atomic in S3, so the stream is buffered (capped) and sent in one request.
 */
export function createS3MediaStore(options: S3MediaStoreOptions): MediaStore {
  const { bucket, region, endpoint, forcePathStyle, credentials } = options;
  if (!bucket) throw new Error('S3 media store needs a bucket');
  const trimmed = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const prefix = trimmed ? `${trimmed}/` : '';
  const client = new S3Client({
    region,
    endpoint,
    forcePathStyle,
    credentials,
    // Checksums only where S3 requires them: many S3-compatible services reject or mishandle the
    // flexible-checksum headers the SDK would otherwise add to every request.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const secrets = credentials ? [credentials.secretAccessKey, credentials.accessKeyId].filter((s) => s.length > 0) : [];

  // Only a GUID becomes an object name, so no key can reach outside `prefix`.
  const objectKey = (key: string): string => {
    if (!isMediaKey(key)) throw new MediaKeyError('media key must be a lower-case GUID');
    return `${prefix}${key}`;
  };

  /**
   * An error the caller may log. The SDK's own copies every field of the error response onto the
   * exception (`AWSAccessKeyId`, `StringToSign`, …), so it is replaced, not wrapped as a cause.
   */
  const failure = (operation: string, err: unknown): Error => {
    if (err instanceof MediaTooLargeError || err instanceof MediaKeyError) return err;
    const name = err instanceof Error ? err.name : 'Error';
    const status = err instanceof S3ServiceException ? ` (HTTP ${err.$metadata.httpStatusCode ?? '?'})` : '';
    let message = err instanceof Error ? err.message : String(err);
    for (const secret of secrets) message = message.split(secret).join('[redacted]');
    return new Error(`S3 ${operation} in bucket ${bucket} failed: ${name}${status}: ${message}`);
  };

  return {
    async put(key: string, bytes: MediaBytes, putOptions: MediaPutOptions): Promise<{ readonly sizeBytes: number }> {
      const Key = objectKey(key);
      const { maxBytes, signal } = putOptions;
      const body = await collect(bytes, maxBytes, signal);
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body, ContentLength: body.byteLength }), { abortSignal: signal });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw failure('PutObject', err);
      }
      return { sizeBytes: body.byteLength };
    },

    async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
      const Key = objectKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key }), { abortSignal: signal });
        if (!response.Body) throw new MediaKeyError(`media ${key} has no body`);
        return await response.Body.transformToByteArray();
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (isNotFound(err)) throw new MediaKeyError(`media ${key} not found`);
        throw failure('GetObject', err);
      }
    },

    async delete(key: string): Promise<boolean> {
      const Key = objectKey(key);
      // DeleteObject succeeds whether or not the object was there; only HEAD tells the two apart.
      let existed = true;
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      } catch (err) {
        if (!isNotFound(err)) throw failure('HeadObject', err);
        existed = false;
      }
      if (!existed) return false;
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (err) {
        throw failure('DeleteObject', err);
      }
      return true;
    },

    async *list(): AsyncIterable<StagedFile> {
      let ContinuationToken: string | undefined;
      do {
        const page = await client
          .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken }))
          .catch((err: unknown) => Promise.reject(failure('ListObjectsV2', err)));
        for (const object of page.Contents ?? []) {
          const name = object.Key?.slice(prefix.length) ?? '';
          // Anything not a bare GUID (nested keys, foreign files) is not this store's to report.
          if (!isMediaKey(name)) continue;
          yield { key: name, sizeBytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    async close(): Promise<void> {
      client.destroy();
    },
  };
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'NoSuchKey' || err.name === 'NotFound') return true;
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}

/** The whole stream in one buffer, refused the moment it grows past `maxBytes`. */
async function collect(bytes: MediaBytes, maxBytes: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  signal?.throwIfAborted();
  if (bytes instanceof Uint8Array) {
    if (bytes.byteLength > maxBytes) throw new MediaTooLargeError(maxBytes);
    return bytes;
  }
  const iterator = bytes[Symbol.asyncIterator]();
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  aborted.catch(() => undefined);
  const onAbort = (): void => reject(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      // Raced so that a stalled source cannot hold the caller past its abort.
      const step = await Promise.race([iterator.next(), aborted]);
      if (step.done) break;
      size += step.value.byteLength;
      if (size > maxBytes) throw new MediaTooLargeError(maxBytes);
      chunks.push(step.value);
    }
  } catch (err) {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks, size);
}
