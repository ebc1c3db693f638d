import { randomUUID } from 'node:crypto';
import { ParleyError } from '../../domain/errors.ts';
import { MEDIA_KINDS, isMediaKind } from '../../domain/media-kind.ts';
import type { MediaKind } from '../../domain/media-kind.ts';
import type { InboundMessage } from '../../ports/provider.port.ts';

/** Media of a simulated inbound message, as the REST API accepts it. */
export interface SimulatorInboundMedia {
  readonly kind: MediaKind;
  readonly mimetype: string;
  /** Absent or empty only with `corrupt: true`. */
  readonly dataBase64?: string;
  readonly fileName?: string | null;
  readonly caption?: string | null;
}

/** A simulated inbound message: exactly one of `text` and `media`. */
export interface SimulatorInboundPayload {
  readonly from: string;
  readonly text?: string;
  readonly media?: SimulatorInboundMedia;
  /** Makes `media.download()` reject, as an expired or damaged upstream file would. */
  readonly corrupt?: boolean;
  /** Reusing an id replays a message, which Parley must store once. */
  readonly providerMessageId?: string;
  readonly group?: string | null;
  readonly displayName?: string;
  /** Written by the account owner from the phone to `from` (not received from it). */
  readonly fromMe?: boolean;
}

/** Who a simulated message the owner wrote from the phone is from. */
export const OWNER_SENDER_ID = 'me';

/** Validated inbound data; media bytes are decoded once, up front. */
export interface ParsedInbound {
  readonly from: string;
  readonly text: string | null;
  readonly media: { readonly kind: MediaKind; readonly mimetype: string; readonly bytes: Uint8Array; readonly fileName: string | null; readonly caption: string | null } | null;
  readonly corrupt: boolean;
  readonly providerMessageId: string | null;
  readonly group: string | null;
  readonly displayName: string | null;
  readonly fromMe: boolean;
}

/**
 * Checks an inbound payload whatever its static type claims, since it arrives from REST and
 * tests alike; every failure names the offending field.
 */
export function parseInbound(payload: unknown): ParsedInbound {
  if (!isRecord(payload)) throw invalid('body', 'must be an object');
  const from = requiredString(payload, 'from', 'from');
  const hasText = payload['text'] !== undefined;
  const hasMedia = payload['media'] !== undefined && payload['media'] !== null;
  if (hasText === hasMedia) throw invalid('text', 'exactly one of text and media is required');
  const text = hasText ? requiredString(payload, 'text', 'text') : null;
  const corrupt = optionalBoolean(payload, 'corrupt') ?? false;
  const media = hasMedia ? parseMedia(payload['media'], corrupt) : null;
  if (corrupt && media === null) throw invalid('corrupt', 'applies only to media messages');
  return {
    from,
    text,
    media,
    corrupt,
    providerMessageId: optionalString(payload, 'providerMessageId', 'providerMessageId'),
    group: optionalString(payload, 'group', 'group'),
    displayName: optionalString(payload, 'displayName', 'displayName'),
    fromMe: optionalBoolean(payload, 'fromMe') ?? false,
  };
}

/** Turns validated input into the normalized message every provider hands over. */
export function toInboundMessage(parsed: ParsedInbound, now: number): InboundMessage {
  const { media } = parsed;
  return {
    providerMessageId: parsed.providerMessageId ?? `SIM-${randomUUID()}`,
    correspondentId: parsed.group ?? parsed.from,
    // The owner's own message is the account's: its sender is the account, its chat `from`.
    sender: parsed.fromMe ? { id: OWNER_SENDER_ID, displayName: null } : { id: parsed.from, displayName: parsed.displayName },
    fromMe: parsed.fromMe,
    group: parsed.group,
    originatingAt: now,
    text: parsed.text,
    media:
      media === null
        ? null
        : {
            kind: media.kind,
            mimetype: media.mimetype,
            fileName: media.fileName,
            caption: media.caption,
            sizeBytes: media.bytes.byteLength,
            // A fresh copy each time, so a consumer mutating the bytes cannot affect a retry.
            download: parsed.corrupt
              ? () => Promise.reject(new Error('simulated download failure'))
              : () => Promise.resolve(new Uint8Array(media.bytes)),
          },
  };
}

// A corrupt message's download fails whatever its bytes, so it needs none.
function parseMedia(value: unknown, corrupt: boolean): NonNullable<ParsedInbound['media']> {
  if (!isRecord(value)) throw invalid('media', 'must be an object');
  const kind = value['kind'];
  if (!isMediaKind(kind)) throw invalid('media.kind', `must be one of ${MEDIA_KINDS.join(', ')}`);
  const mimetype = requiredString(value, 'mimetype', 'media.mimetype');
  const raw = value['dataBase64'];
  const bytes = corrupt && (raw === undefined || raw === '') ? new Uint8Array(0) : decodeBase64(requiredString(value, 'dataBase64', 'media.dataBase64'));
  return {
    kind,
    mimetype,
    bytes,
    fileName: optionalString(value, 'fileName', 'media.fileName'),
    caption: optionalString(value, 'caption', 'media.caption'),
  };
}

/**
 * Node's decoder silently skips characters it does not understand, so the bytes are re-encoded
 * and compared: anything that does not round-trip was not base64.
 */
function decodeBase64(data: string): Uint8Array {
  const normalized = withoutPadding(data.replace(/\s+/g, ''));
  const bytes = Buffer.from(normalized, 'base64');
  if (bytes.byteLength === 0 || withoutPadding(bytes.toString('base64')) !== normalized) {
    throw invalid('media.dataBase64', 'must be non-empty, valid base64');
  }
  return new Uint8Array(bytes);
}

/**
 * Trailing `=` cut by a scan from the end: `/=+$/` retries from every `=` of a run that is not
 * at the end, quadratic in the run (seconds for 100 KB of `=` followed by one letter).
 */
function withoutPadding(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  return end === text.length ? text : text.slice(0, end);
}

function requiredString(record: Record<string, unknown>, key: string, field: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'must be a non-empty string');
  return value;
}

function optionalString(record: Record<string, unknown>, key: string, field: string): string | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'must be a non-empty string when given');
  return value;
}

function optionalBoolean(record: Record<string, unknown>, key: string): boolean | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw invalid(key, 'must be a boolean');
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(field: string, problem: string): ParleyError {
  return ParleyError.of('VALIDATION_FAILED', { field, problem }, { details: { field } });
}
