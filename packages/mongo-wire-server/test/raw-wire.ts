import net from 'node:net';
import { deserialize, serialize, type Document } from 'bson';

/** A decoded server reply. */
export interface RawReply {
  readonly opCode: number;
  readonly responseTo: number;
  readonly flags: number;
  readonly doc: Document;
  /** OP_REPLY only. */
  readonly numberReturned?: number;
  readonly cursorId?: bigint;
}

function withHeader(body: Buffer, requestId: number, opCode: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, body]);
}

/** OP_MSG bytes: flag bits, a kind-0 body and optional kind-1 document sequences, optionally a checksum trailer. */
export function opMsg(requestId: number, body: Document, opts: { flags?: number; sequences?: Record<string, Document[]>; checksum?: boolean } = {}): Buffer {
  const flags = (opts.flags ?? 0) | (opts.checksum ? 1 : 0);
  const parts: Buffer[] = [Buffer.alloc(4), Buffer.from([0]), Buffer.from(serialize(body))];
  parts[0]?.writeUInt32LE(flags >>> 0, 0);
  for (const [identifier, docs] of Object.entries(opts.sequences ?? {})) {
    const payload = Buffer.concat([Buffer.from(`${identifier}\0`, 'utf8'), ...docs.map((d) => Buffer.from(serialize(d)))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  if (opts.checksum) parts.push(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  return withHeader(Buffer.concat(parts), requestId, 2013);
}

/** OP_QUERY bytes for a legacy command against `namespace` (e.g. `admin.$cmd`). */
export function opQuery(requestId: number, namespace: string, query: Document): Buffer {
  const head = Buffer.alloc(4);
  const counts = Buffer.alloc(8);
  counts.writeInt32LE(0, 0);
  counts.writeInt32LE(-1, 4);
  return withHeader(Buffer.concat([head, Buffer.from(`${namespace}\0`, 'utf8'), counts, Buffer.from(serialize(query))]), requestId, 2004);
}

/** Wraps raw bytes in an OP_COMPRESSED envelope claiming the given original opcode (payload left uncompressed). */
export function opCompressed(requestId: number, originalOpCode: number, payload: Buffer): Buffer {
  const meta = Buffer.alloc(9);
  meta.writeInt32LE(originalOpCode, 0);
  meta.writeInt32LE(payload.length, 4);
  meta[8] = 0;
  return withHeader(Buffer.concat([meta, payload]), requestId, 2012);
}

/** A bare TCP client that collects and decodes replies. */
export class RawClient {
  private readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private readonly replies: RawReply[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4 && this.buffer.length >= this.buffer.readInt32LE(0)) {
        const len = this.buffer.readInt32LE(0);
        this.replies.push(decode(this.buffer.subarray(0, len)));
        this.buffer = this.buffer.subarray(len);
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('close', () => this.wake());
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Writes each chunk separately, yielding to the event loop in between. */
  async writeInChunks(bytes: Buffer, chunkSize: number): Promise<void> {
    for (let i = 0; i < bytes.length; i += chunkSize) {
      this.socket.write(bytes.subarray(i, i + chunkSize));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Next reply, or rejects after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<RawReply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.socket.destroyed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a reply');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.replies.shift() as RawReply;
  }

  /** Number of replies received and not yet consumed. */
  get pending(): number {
    return this.replies.length;
  }

  close(): void {
    this.socket.destroy();
  }
}

function decode(buf: Buffer): RawReply {
  const responseTo = buf.readInt32LE(8);
  const opCode = buf.readInt32LE(12);
  if (opCode === 2013) return { opCode, responseTo, flags: buf.readUInt32LE(16), doc: deserialize(buf.subarray(21)) };
  if (opCode === 1) {
    return { opCode, responseTo, flags: buf.readInt32LE(16), cursorId: buf.readBigInt64LE(20), numberReturned: buf.readInt32LE(32), doc: deserialize(buf.subarray(36)) };
  }
  throw new Error(`unexpected reply opcode ${opCode}`);
}
