import type { Socket } from 'node:net';
import type { Doc } from './bson-values.ts';
import { commandName, runCommand, type ConnectionContext } from './commands/dispatch.ts';
import { ErrorCodes } from './errors.ts';
import { FramingError, MessageReader } from './framing.ts';
import { encodeOpMsg, encodeOpReply, MalformedMessage, OpCode, parseMessage, QUERY_FAILURE } from './wire-protocol.ts';

/** Mutable server-wide counters shared by all connections. */
export interface ServerCounters {
  commands: number;
  nextRequestId: number;
}

// Since MongoDB 6.0 only the handshake may travel over OP_QUERY.
const OP_QUERY_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

function errorDoc(code: number, codeName: string, errmsg: string): Doc {
  return { ok: 0, errmsg, code, codeName };
}

/** Encodes a reply; a reply that cannot be serialised (e.g. too large) is replaced by an error reply. */
function safeEncode(encode: (id: number, to: number, doc: Doc) => Buffer, id: number, to: number, doc: Doc): Buffer {
  try {
    return encode(id, to, doc);
  } catch (err) {
    return encode(id, to, errorDoc(ErrorCodes.InternalError, 'InternalError', `cannot encode reply: ${(err as Error).message}`));
  }
}

/** Wires one client socket to the command dispatcher: framing, decoding, execution and replies. */
export function serveConnection(socket: Socket, conn: ConnectionContext, counters: ServerCounters): void {
  const reader = new MessageReader();
  const nextId = (): number => (counters.nextRequestId = (counters.nextRequestId + 1) | 0);
  const execute = (body: Doc): Doc => {
    counters.commands++;
    return runCommand(body, conn);
  };

  const answer = (buf: Buffer): Buffer | undefined => {
    let incoming;
    try {
      incoming = parseMessage(buf);
    } catch (err) {
      if (!(err instanceof MalformedMessage)) throw err;
      const doc = errorDoc(ErrorCodes.InvalidBSON, 'InvalidBSON', `invalid message: ${err.message}`);
      if (err.opCode === OpCode.MSG) return encodeOpMsg(nextId(), err.requestId, doc);
      return encodeOpReply(nextId(), err.requestId, { $err: doc.errmsg, ...doc }, QUERY_FAILURE);
    }
    switch (incoming.kind) {
      case 'msg': {
        const reply = execute(incoming.body);
        return incoming.moreToCome ? undefined : safeEncode(encodeOpMsg, nextId(), incoming.requestId, reply);
      }
      case 'query': {
        const name = commandName(incoming.body);
        if (!incoming.namespace.endsWith('.$cmd') || !OP_QUERY_COMMANDS.has(name)) {
          const doc = errorDoc(
            ErrorCodes.UnsupportedOpQueryCommand,
            'UnsupportedOpQueryCommand',
            `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
          );
          return encodeOpReply(nextId(), incoming.requestId, { $err: doc.errmsg, ...doc }, QUERY_FAILURE);
        }
        const body = { ...incoming.body, $db: incoming.namespace.slice(0, -'.$cmd'.length) };
        return safeEncode(encodeOpReply, nextId(), incoming.requestId, execute(body));
      }
      case 'compressed': {
        const doc = errorDoc(ErrorCodes.BadValue, 'BadValue', 'OP_COMPRESSED is not supported: no compressor was negotiated');
        if (incoming.originalOpCode === OpCode.MSG) return encodeOpMsg(nextId(), incoming.requestId, doc);
        return encodeOpReply(nextId(), incoming.requestId, { $err: doc.errmsg, ...doc }, QUERY_FAILURE);
      }
      case 'unknown':
        conn.logger?.warn({ connectionId: conn.connectionId, opCode: incoming.opCode }, 'unsupported opcode; closing connection');
        socket.destroy();
        return undefined;
    }
  };

  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    const replies: Buffer[] = [];
    try {
      for (let msg = reader.next(); msg !== undefined && !socket.destroyed; msg = reader.next()) {
        const reply = answer(msg);
        if (reply) replies.push(reply);
      }
      // Nothing is acknowledged before the changes it acknowledges are stored.
      conn.store.commit();
    } catch (err) {
      const what = err instanceof FramingError ? 'invalid message framing' : 'unexpected failure';
      conn.logger?.warn({ connectionId: conn.connectionId, err: (err as Error).message }, `${what}; closing connection`);
      socket.destroy();
      return;
    }
    if (replies.length > 0 && !socket.destroyed) socket.write(replies.length === 1 ? (replies[0] as Buffer) : Buffer.concat(replies));
  });
  socket.on('error', (err) => conn.logger?.debug({ connectionId: conn.connectionId, err: err.message }, 'socket error'));
}
