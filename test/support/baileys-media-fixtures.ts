import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { encryptedStream } from 'baileys';
import type { MediaType } from 'baileys';

/**
 * WhatsApp media as its CDN holds it, made with Baileys' own crypto, and a local plain-HTTP
 * server standing in for the CDN. A message built with `url: server.url(path)` and no
 * `directPath` makes Baileys (and Parley's downloader) fetch from this server.
 */

/** Encrypted media and the fields a media message (`imageMessage`, `audioMessage`, …) carries for it. */
export interface EncryptedMedia {
  /** What the CDN serves: the AES-256-CBC ciphertext followed by its 10-byte MAC. */
  readonly ciphertext: Uint8Array;
  readonly mediaKey: Uint8Array;
  readonly fileSha256: Uint8Array;
  readonly fileEncSha256: Uint8Array;
  readonly fileLength: number;
}

/** Encrypts `bytes` as WhatsApp does for the given media type (the type selects the key derivation). */
export async function encryptMedia(bytes: Uint8Array, type: MediaType): Promise<EncryptedMedia> {
  const encrypted = await encryptedStream(Buffer.from(bytes), type, {});
  try {
    const ciphertext = new Uint8Array(await readFile(encrypted.encFilePath));
    return {
      ciphertext,
      mediaKey: new Uint8Array(encrypted.mediaKey),
      fileSha256: new Uint8Array(encrypted.fileSha256),
      fileEncSha256: new Uint8Array(encrypted.fileEncSha256),
      fileLength: encrypted.fileLength,
    };
  } finally {
    await rm(encrypted.encFilePath, { force: true });
    if (encrypted.originalFilePath !== undefined) await rm(encrypted.originalFilePath, { force: true });
  }
}

/**
 * What the server answers on a path: the bytes (200), a bare status code, or the first `cutAt`
 * bytes of a response announced whole, after which the connection stalls or drops.
 */
export type MediaResponse = Uint8Array | number | { readonly bytes: Uint8Array; readonly cutAt: number; readonly then: 'stall' | 'drop' };

export interface MediaServer {
  /** The absolute URL of a path on this server (`/enc/1` → `http://127.0.0.1:PORT/enc/1`). */
  url(path: string): string;
  /** Sets what a path answers from now on; an unknown path answers 404. */
  serve(path: string, response: MediaResponse): void;
  /** How many requests reached a path. */
  hits(path: string): number;
  /** Stops the server and cuts every open connection (stalled ones included). */
  close(): Promise<void>;
}

/** A media CDN stand-in on 127.0.0.1 at a random port. */
export async function startMediaServer(): Promise<MediaServer> {
  const responses = new Map<string, MediaResponse>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const response = responses.get(path) ?? 404;
    if (typeof response === 'number') {
      res.writeHead(response, { 'content-type': 'text/plain' }).end(`status ${response}`);
    } else if (response instanceof Uint8Array) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': response.byteLength }).end(response);
    } else {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': response.bytes.byteLength });
      res.write(response.bytes.subarray(0, response.cutAt), () => {
        if (response.then === 'drop') setTimeout(() => req.socket.destroy(), 20);
      });
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('media server has no port');
  const base = `http://127.0.0.1:${address.port}`;
  return {
    url: (path) => `${base}${path}`,
    serve: (path, response) => void responses.set(path, response),
    hits: (path) => counts.get(path) ?? 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
