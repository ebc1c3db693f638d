import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';

const OP_MSG = 2013;
const CHECKSUM_PRESENT = 1;

/**
 * What the proxy does with the server's reply to `command`: `undefined` passes it on as it came,
 * a document replaces it, `hang-up` drops the connection after the server applied the command.
 */
export type ReplyRule = (command: string, reply: Document) => Document | 'hang-up' | undefined;

export interface ReplyProxy {
  /** A connection string that reaches the store through the proxy. */
  readonly uri: string;
  /** The rule for replies from now on; none passes everything through. */
  rule: ReplyRule | undefined;
  close(): Promise<void>;
}

/**
 * The proxy needs one plain host to stand in front of: a replica-set seed list would lead the
 * driver past it, and TLS hides the messages. Such a store is reported, not guessed at.
 */
export function proxyTarget(uri: string): URL | undefined {
  if (!uri.startsWith('mongodb://')) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const tls = ['tls', 'ssl'].some((p) => url.searchParams.get(p) === 'true');
  return tls || url.port === '' ? undefined : url;
}

/**
 * A TCP proxy in front of the store that lets a test alter the server's replies, so the real driver
 * meets what a replica set sends in trouble (a write-concern error, a reply lost after the write)
 * and builds its errors exactly as in production. Requests pass untouched; only OP_MSG replies to
 * commands the rule names are rewritten.
 */
export async function startReplyProxy(target: URL): Promise<ReplyProxy> {
  const sockets = new Set<Socket>();
  const proxy: ReplyProxy = { uri: '', rule: undefined, close: async () => {} };
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    const commands = new Map<number, string>();
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    frames(client, (frame) => {
      const command = commandOf(frame);
      if (command !== undefined) commands.set(frame.readInt32LE(4), command);
      upstream.write(frame);
    });
    frames(upstream, (frame) => {
      const command = commands.get(frame.readInt32LE(8));
      const rule = proxy.rule;
      if (command === undefined || rule === undefined || frame.readInt32LE(12) !== OP_MSG) return void client.write(frame);
      const outcome = rule(command, body(frame));
      if (outcome === 'hang-up') return end();
      client.write(outcome === undefined ? frame : reply(frame, outcome));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const via = new URL(target.href);
  via.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  via.searchParams.set('directConnection', 'true');
  return Object.assign(proxy, {
    uri: via.href,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Calls `onFrame` with each whole wire message read from `socket`. */
function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
      const size = pending.readInt32LE(0);
      onFrame(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  });
}

/** The command an OP_MSG request runs: the first field of its body. */
function commandOf(frame: Buffer): string | undefined {
  if (frame.readInt32LE(12) !== OP_MSG) return undefined;
  return Object.keys(body(frame))[0];
}

/** The OP_MSG body (section kind 0), wherever among the sections it sits. */
function body(frame: Buffer): Document {
  const end = frame.length - ((frame.readUInt32LE(16) & CHECKSUM_PRESENT) !== 0 ? 4 : 0);
  let at = 20;
  while (at < end) {
    const kind = frame[at];
    const size = frame.readInt32LE(at + 1);
    if (kind === 0) return BSON.deserialize(frame.subarray(at + 1, at + 1 + size), { promoteValues: false });
    at += 1 + size;
  }
  return {};
}

/** `frame` with its body replaced by `doc`, as a reply to the same request and without a checksum. */
function reply(frame: Buffer, doc: Document): Buffer {
  const bson = BSON.serialize(doc);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + bson.length, 0);
  frame.copy(header, 4, 4, 16); // requestID, responseTo, opCode
  header.writeUInt32LE(frame.readUInt32LE(16) & ~CHECKSUM_PRESENT, 16);
  header[20] = 0;
  return Buffer.concat([header, bson]);
}
