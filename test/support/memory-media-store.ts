import { MediaKeyError, MediaTooLargeError, isMediaKey } from '../../src/ports/media-store.port.ts';
import type { MediaBytes, MediaStore, StagedFile } from '../../src/ports/media-store.port.ts';

/** A media store in memory, for tests that do not look at files: same contract as the real ones. */
export function createMemoryMediaStore(): MediaStore & { readonly files: ReadonlyMap<string, Uint8Array> } {
  const files = new Map<string, { bytes: Uint8Array; modifiedAt: Date }>();
  const checked = (key: string) => {
    if (!isMediaKey(key)) throw new MediaKeyError(`not a media key: ${key}`);
    return key;
  };
  return {
    get files() {
      return new Map([...files].map(([k, v]) => [k, v.bytes]));
    },
    async put(key, bytes: MediaBytes, { maxBytes, signal }) {
      checked(key);
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
        signal?.throwIfAborted();
        size += chunk.byteLength;
        if (size > maxBytes) throw new MediaTooLargeError(maxBytes);
        chunks.push(chunk);
      }
      files.set(key, { bytes: new Uint8Array(Buffer.concat(chunks)), modifiedAt: new Date() });
      return { sizeBytes: size };
    },
    async get(key) {
      const file = files.get(checked(key));
      if (file === undefined) throw new MediaKeyError(`no media ${key}`);
      return file.bytes;
    },
    async delete(key) {
      return files.delete(checked(key));
    },
    async *list(): AsyncIterable<StagedFile> {
      for (const [key, file] of files) yield { key, sizeBytes: file.bytes.byteLength, modifiedAt: file.modifiedAt };
    },
    async close() {},
  };
}
