import { deserialize, serialize, type DeserializeOptions } from 'bson';
import { crc32 } from 'node:zlib';
import type { Doc } from '../bson-values.ts';

/**
 * On-disk record: `[u32 length][u32 crc32][BSON document of that length]`, little-endian. The
 * checksum is what tells a record cut short or scrambled by a crash from a real one; BSON's own
 * length prefix alone would happily describe garbage.
 */
export const RECORD_HEADER_BYTES = 8;

// A record larger than this is not something this server wrote (documents stop at 16 MiB).
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

// The options the wire protocol decodes requests with, so a value read back from disk is the
// same JS value the server held before it was written.
const DESERIALIZE: DeserializeOptions = { promoteLongs: false, promoteValues: true, promoteBuffers: false, bsonRegExp: false };

/** One framed record, ready to append. */
export function encodeRecord(doc: Doc): Buffer {
  const body = serialize(doc, { ignoreUndefined: true });
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  out.set(body, RECORD_HEADER_BYTES);
  return out;
}

/** What a file's bytes decode to: the intact records and where the intact prefix ends. */
export interface DecodedRecords {
  readonly records: Doc[];
  /** Bytes covered by intact records; anything after is a torn or damaged tail. */
  readonly validLength: number;
  /** Bytes after `validLength` that were ignored. */
  readonly ignoredBytes: number;
}

/** Decodes records from the start of `buf`, stopping at the first one that is incomplete or fails its checksum. */
export function decodeRecords(buf: Buffer): DecodedRecords {
  const records: Doc[] = [];
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(offset);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (length < 5 || length > MAX_RECORD_BYTES || end > buf.length) break;
    const body = buf.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(body) !== buf.readUInt32LE(offset + 4) || body.readInt32LE(0) !== length) break;
    let record: Doc;
    try {
      record = deserialize(body, DESERIALIZE);
    } catch {
      break;
    }
    records.push(record);
    offset = end;
  }
  return { records, validLength: offset, ignoredBytes: buf.length - offset };
}
