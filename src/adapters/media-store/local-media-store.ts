import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, opendir, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaKeyError, MediaTooLargeError, isMediaKey } from '../../ports/media-store.port.ts';
import type { MediaBytes, MediaPutOptions, MediaStore, StagedFile } from '../../ports/media-store.port.ts';

const TEMP_PREFIX = '.tmp-';
/** A temp file untouched this long belongs to a write that died with its process. */
const STALE_TEMP_MS = 60_000;

/**
 * Media staged as files in one directory, named by their GUID key. Writes go to a temp file in the
 * same directory and are renamed into place, so a reader never sees a partial file.
 */
export async function createLocalMediaStore(dir: string): Promise<MediaStore> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await removeStaleTemps(dir);

  // Only a GUID reaches `join`, so no key can name a path outside `dir`.
  const pathOf = (key: string): string => join(dir, mediaKey(key));

  return {
    async put(key: string, bytes: MediaBytes, options: MediaPutOptions): Promise<{ readonly sizeBytes: number }> {
      const target = pathOf(key);
      const { maxBytes, signal } = options;
      signal?.throwIfAborted();
      const temp = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
      let handle: FileHandle | undefined = await open(temp, 'wx', 0o600);
      try {
        // The umask may have narrowed the create mode further, never widened it; make it exact.
        await handle.chmod(0o600);
        let sizeBytes = 0;
        for await (const chunk of abortable(bytes, signal)) {
          sizeBytes += chunk.byteLength;
          // Checked before writing: an oversized stream never puts more than the cap on disk.
          if (sizeBytes > maxBytes) throw new MediaTooLargeError(maxBytes);
          await handle.write(chunk);
        }
        signal?.throwIfAborted();
        await handle.sync();
        await handle.close();
        handle = undefined;
        await rename(temp, target);
        await syncDir(dir);
        return { sizeBytes };
      } catch (err) {
        await handle?.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
        throw err;
      }
    },

    async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
      const path = pathOf(key);
      try {
        const buffer = await readFile(path, signal ? { signal } : {});
        // A plain view, so callers get the same type from every backend.
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (errorCode(err) === 'ENOENT') throw new MediaKeyError(`media ${key} not found`);
        throw err;
      }
    },

    async delete(key: string): Promise<boolean> {
      const path = pathOf(key);
      try {
        await unlink(path);
        return true;
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return false;
        throw err;
      }
    },

    async *list(): AsyncIterable<StagedFile> {
      for await (const entry of await opendir(dir)) {
        if (!entry.isFile() || !isMediaKey(entry.name)) continue;
        const info = await stat(join(dir, entry.name)).catch((err: unknown) => {
          // Deleted between the directory read and the stat: no longer staged.
          if (errorCode(err) === 'ENOENT') return undefined;
          throw err;
        });
        if (info) yield { key: entry.name, sizeBytes: info.size, modifiedAt: info.mtime };
      }
    },

    async close(): Promise<void> {},
  };
}

function mediaKey(key: string): string {
  if (!isMediaKey(key)) throw new MediaKeyError('media key must be a lower-case GUID');
  return key;
}

/**
 * The chunks of `bytes`, stopping with the abort reason the moment `signal` fires, even while the
 * source is stalled waiting for the network.
 */
async function* abortable(bytes: MediaBytes, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  if (bytes instanceof Uint8Array) {
    yield bytes;
    return;
  }
  const iterator = bytes[Symbol.asyncIterator]();
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  aborted.catch(() => undefined);
  const onAbort = (): void => reject(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    signal?.throwIfAborted();
    for (;;) {
      const step = await Promise.race([iterator.next(), aborted]);
      if (step.done) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Not awaited: a source stuck in its own await only settles `return` once it wakes up.
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

async function removeStaleTemps(dir: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs < cutoff) await unlink(path).catch(() => undefined);
  }
}

/** Makes the rename itself durable; some platforms cannot fsync a directory, which is no failure. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
