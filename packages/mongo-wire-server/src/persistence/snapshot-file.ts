import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Doc } from '../bson-values.ts';
import type { Store } from '../store.ts';
import { contentsOf } from './changes.ts';
import { decodeRecords, encodeRecord } from './record-codec.ts';

const SNAPSHOT_FORMAT = 'parley-wire-snapshot/1';
// Records are gathered into writes of about this size rather than one write each.
const WRITE_CHUNK_BYTES = 1 << 20;

/** A snapshot as found on disk. */
export interface SnapshotContents {
  readonly generation: number;
  /** The changes that rebuild the store from empty. */
  readonly changes: Doc[];
  readonly bytes: number;
}

/**
 * Reads the snapshot at `file`, or undefined when there is none. A snapshot only ever appears
 * complete (it is renamed into place after an fsync), so one that does not decode to the end is
 * damaged, and start-up stops instead of serving part of the data.
 */
export function readSnapshot(file: string): SnapshotContents | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
  const { records, ignoredBytes } = decodeRecords(buf);
  const header = records[0];
  const trailer = records.at(-1);
  const changes = records.slice(1, -1);
  if (ignoredBytes > 0 || header?.format !== SNAPSHOT_FORMAT || typeof header.generation !== 'number' || trailer?.end !== changes.length) {
    throw new Error(`snapshot ${file} is damaged (${ignoredBytes} unreadable bytes of ${buf.length}); move it away to start from the journal alone`);
  }
  return { generation: header.generation, changes, bytes: buf.length };
}

function writeAll(fd: number, buf: Buffer): void {
  for (let offset = 0; offset < buf.length; ) offset += writeSync(fd, buf, offset, buf.length - offset);
}

// Makes the rename itself durable; not every platform can open a directory for this.
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes the whole store as snapshot `generation`: into a temporary file, fsync'd, then renamed
 * over `file`, so a crash at any point leaves either the old snapshot or the new one, never a mix.
 * Returns the snapshot's size in bytes.
 */
export function writeSnapshot(file: string, generation: number, store: Store): number {
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w');
  let bytes = 0;
  try {
    let chunk: Buffer[] = [encodeRecord({ format: SNAPSHOT_FORMAT, generation, writtenAt: new Date() })];
    let chunkBytes = chunk[0]?.length ?? 0;
    let count = 0;
    const drain = (): void => {
      const buf = Buffer.concat(chunk);
      writeAll(fd, buf);
      bytes += buf.length;
      chunk = [];
      chunkBytes = 0;
    };
    for (const change of contentsOf(store)) {
      const record = encodeRecord(change);
      chunk.push(record);
      chunkBytes += record.length;
      count++;
      if (chunkBytes >= WRITE_CHUNK_BYTES) drain();
    }
    chunk.push(encodeRecord({ end: count }));
    drain();
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(temp, file);
  syncDirectory(path.dirname(file));
  return bytes;
}
