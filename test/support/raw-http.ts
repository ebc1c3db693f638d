import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A client on a bare TCP socket, for what `fetch` will not do: trickle, stall, pipeline, lie. */
export interface RawClient {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Whether the server (or an error) ended the connection. */
  isClosed(): boolean;
  /** Resolves with the ms from connecting to the connection's end. */
  readonly closed: Promise<number>;
  /** Writes unless the connection is gone; false when it is. */
  write(data: string | Buffer): boolean;
}

export async function openRaw(port: number, options: { host?: string; localAddress?: string } = {}): Promise<RawClient> {
  const socket = connect({ port, host: options.host ?? '127.0.0.1', ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
  let text = '';
  let ended = false;
  const opened = Date.now();
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  // A write racing the server's close fails with EPIPE or ECONNRESET: that is the point, not a fault.
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      ended = true;
      resolve(Date.now() - opened);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => text,
    isClosed: () => ended,
    closed,
    write: (data) => {
      if (ended || socket.destroyed) return false;
      socket.write(data);
      return true;
    },
  };
}

/** Polls `probe` until it holds or `timeoutMs` passes; says which. */
export async function within(timeoutMs: number, probe: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** The status code of the first response in `text`, or null before one arrived. */
export function statusOf(text: string): number | null {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return match === null ? null : Number(match[1]);
}

/** The headers of the first response in `text`, names in lower case. */
export function headersOf(text: string): Record<string, string> {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Open file descriptors of a process, this one by default (Linux). */
export function openDescriptors(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
