import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DEFAULT_ORIGIN, extractMessageContent, getHttpStream, getMediaKeys, getUrlFromDirectPath } from 'baileys';
import type { MediaType, WAMessage, proto } from 'baileys';
import type { MediaBytes } from '../../ports/media-store.port.ts';

/** The part of a pino logger the downloader writes to. */
export interface MediaDownloadLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface MediaDownloadDeps {
  /**
   * Asks the sender's phone to upload expired media again (the socket's `updateMediaMessage`);
   * resolves with the message pointing at the new copy.
   */
  readonly reupload: (message: WAMessage) => Promise<WAMessage>;
  /** Told about re-uploads; never given URLs or keys. */
  readonly logger?: MediaDownloadLogger;
  /** Passed to Baileys' fetch (a dispatcher, extra headers); tests may leave it out. */
  readonly options?: RequestInit;
  /**
   * How long the phone may take to answer a re-upload request. Baileys waits for the answer
   * without a limit, and a phone that is offline never answers. Default 30 s.
   */
  readonly reuploadTimeoutMs?: number;
  /** How long the media server may send nothing before the attempt counts as failed. Default 60 s. */
  readonly stallTimeoutMs?: number;
}

export const DEFAULT_REUPLOAD_TIMEOUT_MS = 30_000;
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** Why a media download failed, in words safe to log and to show (no URL, no key). */
export class MediaDownloadError extends Error {
  /** The media server's HTTP status, when it answered with one. */
  readonly status: number | null;
  constructor(message: string, status: number | null = null) {
    super(message);
    this.name = 'MediaDownloadError';
    this.status = status;
  }
}

/** Statuses by which WhatsApp's media servers say the copy is gone and the phone must upload it again. */
const EXPIRED = new Set([404, 410]);
/** The truncated HMAC-SHA256 that follows the ciphertext of every WhatsApp media file. */
const MAC_LENGTH = 10;

type MediaContent = proto.Message.IImageMessage | proto.Message.IVideoMessage | proto.Message.IAudioMessage | proto.Message.IDocumentMessage | proto.Message.IStickerMessage;

/** The media part of a message (inside ephemeral, view-once and document-with-caption wrappers) and its key type. */
function mediaOf(message: WAMessage): { readonly media: MediaContent; readonly type: MediaType } | null {
  const content = extractMessageContent(message.message);
  if (content == null) return null;
  if (content.imageMessage != null) return { media: content.imageMessage, type: 'image' };
  if (content.videoMessage != null) return { media: content.videoMessage, type: 'video' };
  if (content.ptvMessage != null) return { media: content.ptvMessage, type: 'video' };
  if (content.audioMessage != null) return { media: content.audioMessage, type: 'audio' };
  if (content.documentMessage != null) return { media: content.documentMessage, type: 'document' };
  if (content.stickerMessage != null) return { media: content.stickerMessage, type: 'sticker' };
  return null;
}

/** The HTTP status of a failed fetch: Boom's `output.statusCode`, or a plain `statusCode`/`status`. */
export function httpStatusOf(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  if ('output' in err && typeof err.output === 'object' && err.output !== null && 'statusCode' in err.output && typeof err.output.statusCode === 'number') {
    return err.output.statusCode;
  }
  if ('statusCode' in err && typeof err.statusCode === 'number') return err.statusCode;
  if ('status' in err && typeof err.status === 'number') return err.status;
  return null;
}

/** An error's message with any URL cut out (media URLs carry access tokens). */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${message}${cause}`.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>');
}

/** Rejects when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Decrypts WhatsApp media as it arrives: AES-256-CBC over everything but the last 10 bytes,
 * which are the HMAC of IV and ciphertext, checked before the last block is let out. The body
 * is read here rather than piped, so a connection that drops mid-way errors this stream (Baileys'
 * own `downloadContentFromMessage` pipes without forwarding the error: the decrypted stream never
 * ends and the body's error is thrown as an uncaught exception). Ending the iteration early, or
 * a stall, destroys the body and so the connection.
 */
async function* decrypted(body: Readable, keys: { iv: Uint8Array; cipherKey: Uint8Array; macKey: Uint8Array }, stallMs: number): AsyncGenerator<Uint8Array> {
  const decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
  const hmac = createHmac('sha256', keys.macKey).update(keys.iv);
  let tail: Buffer = Buffer.alloc(0);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => body.destroy(new MediaDownloadError(`media download stalled (nothing received for ${stallMs / 1000} s)`)), stallMs);
  };
  try {
    arm();
    for await (const chunk of body) {
      clearTimeout(timer);
      const bytes: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      const data = tail.length === 0 ? bytes : Buffer.concat([tail, bytes]);
      const cut = Math.max(0, data.length - MAC_LENGTH);
      tail = data.subarray(cut);
      const ciphertext = data.subarray(0, cut);
      hmac.update(ciphertext);
      const plain = decipher.update(ciphertext);
      if (plain.length > 0) yield plain;
      arm();
    }
    clearTimeout(timer);
    const mac = hmac.digest().subarray(0, MAC_LENGTH);
    if (tail.length !== MAC_LENGTH || !timingSafeEqual(mac, tail)) throw new MediaDownloadError('media failed its integrity check (MAC mismatch): corrupt or truncated');
    const last = decipher.final();
    if (last.length > 0) yield last;
  } catch (err) {
    if (err instanceof MediaDownloadError) throw err;
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
    if (code.startsWith('ERR_OSSL') || code.startsWith('ERR_CRYPTO')) throw new MediaDownloadError(`media decryption failed (${describe(err)})`);
    throw new MediaDownloadError(`media download interrupted (${describe(err)})`);
  } finally {
    clearTimeout(timer);
    body.destroy();
  }
}

/**
 * One download attempt of a media message: the decrypted bytes as a stream. On 404/410 the media
 * expired: ask the phone for a re-upload once, then download from the new location. The function
 * returned for a message keeps the newest copy's location, so a later attempt goes there directly.
 */
export function mediaDownloader(deps: MediaDownloadDeps): (message: WAMessage) => () => Promise<MediaBytes> {
  const reuploadTimeoutMs = deps.reuploadTimeoutMs ?? DEFAULT_REUPLOAD_TIMEOUT_MS;
  const stallTimeoutMs = deps.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;

  /** Opens the message's current copy; an HTTP failure rejects with its status. */
  async function open(message: WAMessage): Promise<AsyncIterable<Uint8Array>> {
    const found = mediaOf(message);
    if (found === null) throw new MediaDownloadError('the message carries no downloadable media');
    const { media, type } = found;
    if (media.mediaKey == null || media.mediaKey.length === 0) throw new MediaDownloadError(`the ${type} message has no media key`);
    const url = media.directPath ? getUrlFromDirectPath(media.directPath, hostOf(media.url)) : media.url;
    if (!url) throw new MediaDownloadError(`the ${type} message has no media URL or direct path`);
    const { iv, cipherKey, macKey } = await getMediaKeys(media.mediaKey, type);
    if (macKey === undefined) throw new MediaDownloadError(`no MAC key for ${type} media`);
    const headers = new Headers(deps.options?.headers);
    headers.set('Origin', DEFAULT_ORIGIN);
    let body: Readable;
    try {
      body = await getHttpStream(url, { ...deps.options, headers });
    } catch (err) {
      const status = httpStatusOf(err);
      if (status !== null) throw new MediaDownloadError(`HTTP ${status} fetching media`, status);
      throw new MediaDownloadError(`media fetch failed (${describe(err)})`);
    }
    return decrypted(body, { iv, cipherKey, macKey }, stallTimeoutMs);
  }

  return (message) => {
    let current = message;
    return async () => {
      try {
        return await open(current);
      } catch (err) {
        if (!(err instanceof MediaDownloadError) || err.status === null || !EXPIRED.has(err.status)) throw err;
        const log = { messageId: current.key.id ?? null, status: err.status };
        deps.logger?.info(log, 'media expired; asking the phone to upload it again');
        try {
          current = await within(deps.reupload(current), reuploadTimeoutMs, `the phone did not answer within ${reuploadTimeoutMs / 1000} s`);
        } catch (reuploadErr) {
          const reason = describe(reuploadErr);
          deps.logger?.warn({ ...log, err: reason }, 'media re-upload failed');
          throw new MediaDownloadError(`media expired and re-upload failed: ${reason}`);
        }
        deps.logger?.debug(log, 'media re-uploaded');
        try {
          return await open(current);
        } catch (again) {
          if (again instanceof MediaDownloadError && again.status !== null && EXPIRED.has(again.status)) {
            throw new MediaDownloadError(`media expired and is still unavailable after re-upload (HTTP ${again.status})`, again.status);
          }
          throw again;
        }
      }
    };
  };
}

function hostOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
