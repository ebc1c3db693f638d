import type { MediaKind } from '../../domain/media-kind.ts';
import type { MediaBytes } from '../../ports/media-store.port.ts';
import type { InboundMedia } from '../../ports/provider.port.ts';
import { contactLabel, locationLabel, reactionLabel, unsupportedLabel } from '../../domain/message-labels.ts';

/** A JSON object from Meta's payload, read field by field through the guards below. */
export type Json = Readonly<Record<string, unknown>>;

/** What a message says, before ids, sender and quote are attached. */
export type CloudContent =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'media'; readonly media: InboundMedia }
  | { readonly kind: 'reaction'; readonly text: string };

/** Hands out the lazy download of one media id; the inbound context's `media`. */
export type MediaLookup = (mediaId: string, expected: { readonly mimetype: string; readonly sha256: string | null }) => () => Promise<MediaBytes>;

/** Meta omits `mime_type` rarely; these keep the processors' choice sensible when it does. */
const FALLBACK_MIMETYPES: Readonly<Record<MediaKind, string>> = {
  voice: 'audio/ogg; codecs=opus',
  audio: 'audio/mpeg',
  image: 'image/jpeg',
  sticker: 'image/webp',
  video: 'video/mp4',
  document: 'application/octet-stream',
};

/**
 * Describes one message of Meta's `messages` array by its `type`. Null when a media message
 * carries no media id: nothing could ever be downloaded, so the message is malformed.
 * Types Parley does not read (orders, polls, edits…) become `[Unsupported message: <type>]` so
 * history keeps a trace of them.
 */
export function describeMessage(message: Json, media: MediaLookup): CloudContent | null {
  const type = stringAt(message, 'type') ?? 'unknown';
  const body = recordAt(message, type);
  switch (type) {
    case 'text':
      return text(stringAt(body, 'body') ?? '');
    case 'image':
    case 'video':
    case 'document':
    case 'sticker':
      return mediaContent(type, body, media);
    case 'audio':
      // Meta marks a recorded voice note apart from a shared audio file only by this flag.
      return mediaContent(body?.voice === true ? 'voice' : 'audio', body, media);
    case 'location':
      return text(location(body));
    case 'contacts':
      return text(contacts(message.contacts));
    case 'reaction': {
      const emoji = stringAt(body, 'emoji');
      return { kind: 'reaction', text: reactionLabel(emoji) };
    }
    case 'interactive':
      return text(interactive(body));
    case 'button':
      return text(`[Button] ${stringAt(body, 'text') ?? ''}`);
    case 'system':
      return text(`[System] ${stringAt(body, 'body') ?? ''}`);
    default:
      return text(unsupported(message, type));
  }
}

function mediaContent(kind: MediaKind, body: Json | null, lookup: MediaLookup): CloudContent | null {
  const id = stringAt(body, 'id');
  if (id === null) return null;
  const mimetype = stringAt(body, 'mime_type') ?? FALLBACK_MIMETYPES[kind];
  const download = lookup(id, { mimetype, sha256: stringAt(body, 'sha256') });
  const media: InboundMedia = {
    kind,
    mimetype,
    fileName: stringAt(body, 'filename'),
    caption: stringAt(body, 'caption'),
    // Webhooks never state the size; the download checks it instead.
    sizeBytes: null,
    download,
  };
  return { kind: 'media', media };
}

/** `[Location] <lat>, <lng>`, then ` — <name>, <address>` and ` <url>` when known. */
function location(body: Json | null): string {
  return locationLabel(numberAt(body, 'latitude'), numberAt(body, 'longitude'), [stringAt(body, 'name'), stringAt(body, 'address')], stringAt(body, 'url'));
}

/** One `[Contact] <name>: <numbers>` line per shared contact. */
function contacts(value: unknown): string {
  const lines = (Array.isArray(value) ? value : []).filter(isRecord).map(contactLine);
  return lines.length === 0 ? '[Contact]' : lines.join('\n');
}

function contactLine(contact: Json): string {
  const name = recordAt(contact, 'name');
  const given = [stringAt(name, 'first_name'), stringAt(name, 'last_name')].filter((part) => part !== null).join(' ');
  const label = stringAt(name, 'formatted_name') || given || 'Unknown';
  const phones = arrayAt(contact, 'phones')
    .filter(isRecord)
    // A phone Meta could match to an account may carry only its `wa_id`.
    .map((phone) => stringAt(phone, 'phone') ?? stringAt(phone, 'wa_id'))
    .filter((phone): phone is string => !!phone);
  return contactLabel(label, phones);
}

function interactive(body: Json | null): string {
  const type = stringAt(body, 'type') ?? 'interactive';
  const reply = recordAt(body, type);
  switch (type) {
    case 'button_reply':
      return `[Button] ${stringAt(reply, 'title') ?? ''}`;
    case 'list_reply': {
      const description = stringAt(reply, 'description');
      return `[List] ${stringAt(reply, 'title') ?? ''}${description ? ` — ${description}` : ''}`;
    }
    case 'nfm_reply':
      return `[Form reply] ${stringAt(reply, 'body') || 'submitted'}`;
    default:
      return unsupportedLabel(type);
  }
}

/**
 * Meta names what it could not pass on (a poll, an edit) in `unsupported.type` where it knows;
 * that says more than the bare `unsupported`, and the first error's title says why.
 */
function unsupported(message: Json, type: string): string {
  const named = stringAt(recordAt(message, 'unsupported'), 'type') ?? type;
  const firstError = arrayAt(message, 'errors').find(isRecord);
  const title = firstError === undefined ? null : stringAt(firstError, 'title');
  return unsupportedLabel(named, title);
}

function text(value: string): CloudContent {
  return { kind: 'text', text: value };
}

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string field, else null: Meta's empty strings carry nothing to keep. */
export function stringAt(record: Json | null, key: string): string | null {
  const value = record?.[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

export function recordAt(record: Json | null, key: string): Json | null {
  const value = record?.[key];
  return isRecord(value) ? value : null;
}

export function arrayAt(record: Json | null, key: string): readonly unknown[] {
  const value = record?.[key];
  return Array.isArray(value) ? value : [];
}

function numberAt(record: Json | null, key: string): number | null {
  const value = record?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
