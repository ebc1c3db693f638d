import { deserialize, serialize, type DeserializeOptions } from 'bson';
import { isPlainObject, type Doc } from './bson-values.ts';

/** Wire protocol opcodes this server knows. */
export const OpCode = { REPLY: 1, QUERY: 2004, COMPRESSED: 2012, MSG: 2013 } as const;

const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;
const EXHAUST_ALLOWED = 1 << 16;
const KNOWN_FLAGS = CHECKSUM_PRESENT | MORE_TO_COME | EXHAUST_ALLOWED;
/** OP_REPLY responseFlags bit telling a legacy client its query failed. */
export const QUERY_FAILURE = 1 << 1;

// int64 stays a Long so stored values keep their type; other numbers become JS numbers.
const DESERIALIZE: DeserializeOptions = { promoteLongs: false, promoteValues: true, promoteBuffers: false, bsonRegExp: false };

/** A decoded request. */
export type Incoming =
  | { readonly kind: 'msg'; readonly requestId: number; readonly moreToCome: boolean; readonly body: Doc }
  | { readonly kind: 'query'; readonly requestId: number; readonly namespace: string; readonly body: Doc }
  | { readonly kind: 'compressed'; readonly requestId: number; readonly originalOpCode: number }
  | { readonly kind: 'unknown'; readonly requestId: number; readonly opCode: number };

/** A request whose header was readable but whose body was not; it can still be answered. */
export class MalformedMessage extends Error {
  override name = 'MalformedMessage';
  readonly requestId: number;
  readonly opCode: number;
  constructor(requestId: number, opCode: number, message: string) {
    super(message);
    this.requestId = requestId;
    this.opCode = opCode;
  }
}

function readCString(buf: Buffer, offset: number, end: number): [string, number] {
  const zero = buf.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new Error('unterminated cstring');
  return [buf.toString('utf8', offset, zero), zero + 1];
}

function readDoc(buf: Buffer, offset: number, end: number): [Doc, number] {
  if (offset + 4 > end) throw new Error('truncated document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new Error(`invalid document size ${size}`);
  return [deserialize(buf.subarray(offset, offset + size), DESERIALIZE), offset + size];
}

function parseOpMsg(buf: Buffer, requestId: number): Incoming {
  const flags = buf.readUInt32LE(16);
  if ((flags & 0xffff & ~KNOWN_FLAGS) !== 0) throw new Error(`unsupported OP_MSG flag bits 0x${flags.toString(16)}`);
  const end = flags & CHECKSUM_PRESENT ? buf.length - 4 : buf.length;
  let offset = 20;
  let body: Doc | undefined;
  const sequences: [string, Doc[]][] = [];
  while (offset < end) {
    const kind = buf[offset++];
    if (kind === 0) {
      if (body) throw new Error('OP_MSG carries more than one body section');
      [body, offset] = readDoc(buf, offset, end);
    } else if (kind === 1) {
      const size = buf.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new Error(`invalid document sequence size ${size}`);
      const [identifier, start] = readCString(buf, offset + 4, sectionEnd);
      const docs: Doc[] = [];
      for (let at = start; at < sectionEnd; ) {
        const [doc, next] = readDoc(buf, at, sectionEnd);
        docs.push(doc);
        at = next;
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${String(kind)}`);
    }
  }
  if (!body) throw new Error('OP_MSG without a body section');
  for (const [identifier, docs] of sequences) {
    if (identifier in body) throw new Error(`duplicate field '${identifier}' in body and document sequence`);
    body[identifier] = docs;
  }
  return { kind: 'msg', requestId, moreToCome: (flags & MORE_TO_COME) !== 0, body };
}

function parseOpQuery(buf: Buffer, requestId: number): Incoming {
  const [namespace, afterName] = readCString(buf, 20, buf.length);
  const [raw] = readDoc(buf, afterName + 8, buf.length);
  // Legacy clients wrap the command together with read preference as {$query: {...}}.
  const query = isPlainObject(raw.$query) ? raw.$query : raw;
  return { kind: 'query', requestId, namespace, body: query };
}

/** Decodes one complete message (header included). */
export function parseMessage(buf: Buffer): Incoming {
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  try {
    switch (opCode) {
      case OpCode.MSG:
        return parseOpMsg(buf, requestId);
      case OpCode.QUERY:
        return parseOpQuery(buf, requestId);
      case OpCode.COMPRESSED:
        return { kind: 'compressed', requestId, originalOpCode: buf.length >= 20 ? buf.readInt32LE(16) : 0 };
      default:
        return { kind: 'unknown', requestId, opCode };
    }
  } catch (err) {
    throw new MalformedMessage(requestId, opCode, (err as Error).message);
  }
}

function header(total: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.allocUnsafe(total);
  buf.writeInt32LE(total, 0);
  buf.writeInt32LE(requestId, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
  return buf;
}

/** OP_MSG reply with a single body section. */
export function encodeOpMsg(requestId: number, responseTo: number, doc: Doc): Buffer {
  const bson = serialize(doc, { ignoreUndefined: true });
  const buf = header(21 + bson.length, requestId, responseTo, OpCode.MSG);
  buf.writeUInt32LE(0, 16);
  buf[20] = 0;
  buf.set(bson, 21);
  return buf;
}

/** OP_REPLY carrying one document, as legacy OP_QUERY clients expect. */
export function encodeOpReply(requestId: number, responseTo: number, doc: Doc, responseFlags = 0): Buffer {
  const bson = serialize(doc, { ignoreUndefined: true });
  const buf = header(36 + bson.length, requestId, responseTo, OpCode.REPLY);
  buf.writeInt32LE(responseFlags, 16);
  buf.writeBigInt64LE(0n, 20);
  buf.writeInt32LE(0, 28);
  buf.writeInt32LE(1, 32);
  buf.set(bson, 36);
  return buf;
}
