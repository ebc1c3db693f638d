import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Doc } from '../bson-values.ts';
import { decodeRecords, encodeRecord } from './record-codec.ts';

const JOURNAL_FORMAT = 'parley-wire-journal/1';

/** A journal as found on disk. */
export interface JournalContents {
  /** Snapshot generation the journal continues; undefined when the file is missing or empty. */
  readonly generation: number | undefined;
  /** Changes after the header, in the order they were made. */
  readonly changes: Doc[];
  /** Length of the intact prefix (header included). */
  readonly validLength: number;
  /** Bytes of a torn or damaged tail that were ignored. */
  readonly ignoredBytes: number;
}

/** Reads the journal at `file`. A tail that fails its checksum is reported, not replayed. */
export function readJournal(file: string): JournalContents {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return { generation: undefined, changes: [], validLength: 0, ignoredBytes: 0 };
    throw err;
  }
  const { records, validLength, ignoredBytes } = decodeRecords(buf);
  const [header, ...changes] = records;
  if (header === undefined) return { generation: undefined, changes: [], validLength: 0, ignoredBytes };
  if (header.format !== JOURNAL_FORMAT || typeof header.generation !== 'number') throw new Error(`${file} is not a journal this server wrote`);
  return { generation: header.generation, changes, validLength, ignoredBytes };
}

/**
 * The open journal. Changes are queued while commands run and written with one `write(2)` per
 * commit, before the replies go out. There is deliberately no fsync: once `write` returns, the
 * bytes belong to the kernel, which keeps them through the death of this process (`kill -9`);
 * only a machine crash or power loss can take writes that the OS had not flushed yet.
 */
export class JournalFile {
  private readonly fd: number;
  private pending: Buffer[] = [];
  private length: number;
  private broken: Error | undefined;

  private constructor(fd: number, length: number) {
    this.fd = fd;
    this.length = length;
  }

  /**
   * Opens `file` to append after its intact prefix. A torn tail is cut off first: records
   * appended after it would be unreachable, since replay stops at the first bad record.
   */
  static open(file: string, generation: number, validLength: number): JournalFile {
    const fd = openSync(file, 'a');
    const journal = new JournalFile(fd, validLength);
    try {
      if (validLength === 0) journal.reset(generation);
      else ftruncateSync(fd, validLength);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return journal;
  }

  /** Bytes in the file. */
  get size(): number {
    return this.length;
  }

  append(record: Buffer): void {
    this.pending.push(record);
  }

  /** Writes every queued change. Throws when they could not be written; they stay queued. */
  flush(): void {
    if (this.broken) throw this.broken;
    if (this.pending.length === 0) return;
    const buf = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    try {
      for (let offset = 0; offset < buf.length; ) offset += writeSync(this.fd, buf, offset, buf.length - offset);
    } catch (err) {
      this.cutBack(err as Error);
      throw new Error(`journal write failed: ${(err as Error).message}`, { cause: err });
    }
    this.pending = [];
    this.length += buf.length;
  }

  // A partial write must not stay in the file: later records would sit behind it, out of reach.
  private cutBack(cause: Error): void {
    try {
      ftruncateSync(this.fd, this.length);
    } catch {
      this.broken = new Error(`journal unusable after a failed write: ${cause.message}`, { cause });
    }
  }

  /**
   * Empties the file and starts it over for a new snapshot generation. A journal left without its
   * header would be refused at the next start, so failing here stops all further writes.
   */
  reset(generation: number): void {
    const header = encodeRecord({ format: JOURNAL_FORMAT, generation });
    try {
      ftruncateSync(this.fd, 0);
      this.length = 0;
      for (let offset = 0; offset < header.length; ) offset += writeSync(this.fd, header, offset, header.length - offset);
    } catch (err) {
      this.broken = new Error(`journal unusable: starting it over failed: ${(err as Error).message}`, { cause: err });
      throw this.broken;
    }
    this.length = header.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}
