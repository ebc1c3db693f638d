import type { MediaBytes } from '../../ports/media-store.port.ts';
import type { InboundMessage } from '../../ports/provider.port.ts';
import type { CloudNotification, CloudStatus } from '../../ports/cloud-api.port.ts';
import { replyLabel } from '../../domain/message-labels.ts';
import { arrayAt, describeMessage, isRecord, recordAt, stringAt } from './cloud-api-content.ts';
import type { CloudContent, Json } from './cloud-api-content.ts';

export type { CloudNotification, CloudStatus } from '../../ports/cloud-api.port.ts';

/** What parsing needs from the provider. */
export interface CloudInboundContext {
  /** The bot's phone number id: changes for other numbers are skipped. */
  readonly phoneNumberId: string;
  /** Lazily downloads a media id's bytes (Graph lookup + download); the provider supplies it. */
  media(mediaId: string, expected: { readonly mimetype: string; readonly sha256: string | null }): () => Promise<MediaBytes>;
  /** Text of an earlier message of this chat by its wamid, for quoted replies; null when unknown. */
  quotedText(correspondentId: string, wamid: string): Promise<string | null>;
}

/** Valid JSON that is not a WhatsApp notification; the message names the fault, never the data. */
export class CloudPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudPayloadError';
  }
}

const STATUSES: ReadonlySet<string> = new Set<CloudStatus['status']>(['sent', 'delivered', 'read', 'failed']);

interface Collected {
  readonly messages: InboundMessage[];
  readonly statuses: CloudStatus[];
  skipped: number;
}

/**
 * Normalizes one webhook POST. Only the envelope is strict: one WhatsApp Business Account may
 * serve several numbers and fields, and one odd piece must not cost the rest of the batch,
 * so foreign or malformed pieces inside are counted in `skipped` instead of thrown.
 */
export async function parseNotification(payload: unknown, ctx: CloudInboundContext): Promise<CloudNotification> {
  const entries = envelopeEntries(payload);
  const collected: Collected = { messages: [], statuses: [], skipped: 0 };
  for (const entry of entries) {
    const changes = isRecord(entry) ? entry.changes : undefined;
    if (!Array.isArray(changes)) {
      collected.skipped += 1;
      continue;
    }
    for (const change of changes) await readChange(change, ctx, collected);
  }
  return collected;
}

function envelopeEntries(payload: unknown): readonly unknown[] {
  if (!isRecord(payload)) throw new CloudPayloadError('payload is not a JSON object');
  if (payload.object !== 'whatsapp_business_account') throw new CloudPayloadError('object is not whatsapp_business_account');
  if (!Array.isArray(payload.entry)) throw new CloudPayloadError('entry is not an array');
  return payload.entry;
}

async function readChange(change: unknown, ctx: CloudInboundContext, collected: Collected): Promise<void> {
  const value = isRecord(change) && change.field === 'messages' ? recordAt(change, 'value') : null;
  if (value === null || stringAt(recordAt(value, 'metadata'), 'phone_number_id') !== ctx.phoneNumberId) {
    collected.skipped += 1;
    return;
  }
  const contacts = arrayAt(value, 'contacts').filter(isRecord);
  for (const raw of listAt(value, 'messages', collected)) {
    const message = isRecord(raw) ? await readMessage(raw, contacts, ctx) : null;
    if (message === null) collected.skipped += 1;
    else collected.messages.push(message);
  }
  for (const raw of listAt(value, 'statuses', collected)) {
    const status = isRecord(raw) ? readStatus(raw) : null;
    if (status === null) collected.skipped += 1;
    else collected.statuses.push(status);
  }
}

/** The array under `key`; absent is empty, anything else is malformed and counted. */
function listAt(value: Json, key: string, collected: Collected): readonly unknown[] {
  const list = value[key];
  if (list === undefined) return [];
  if (Array.isArray(list)) return list;
  collected.skipped += 1;
  return [];
}

async function readMessage(raw: Json, contacts: readonly Json[], ctx: CloudInboundContext): Promise<InboundMessage | null> {
  const id = stringAt(raw, 'id');
  const phone = stringAt(raw, 'from');
  // A user with a username may hide the number: Meta then names them only by the business-scoped id.
  const userId = stringAt(raw, 'from_user_id') ?? stringAt(raw, 'user_id');
  const correspondentId = phone ?? userId;
  if (id === null || correspondentId === null) return null;
  const content = describeMessage(raw, (mediaId, expected) => ctx.media(mediaId, expected));
  if (content === null) return null;
  const base = {
    providerMessageId: id,
    correspondentId,
    sender: { id: correspondentId, displayName: displayName(contacts, phone, userId) },
    group: null,
    originatingAt: epochMs(raw.timestamp),
  };
  if (content.kind === 'reaction') return { ...base, text: content.text, media: null, reaction: true };
  return { ...base, ...withPrefix(content, await prefixOf(recordAt(raw, 'context'), correspondentId, ctx)) };
}

function displayName(contacts: readonly Json[], phone: string | null, userId: string | null): string | null {
  const contact = contacts.find(
    (candidate) => (phone !== null && stringAt(candidate, 'wa_id') === phone) || (userId !== null && stringAt(candidate, 'user_id') === userId),
  );
  return stringAt(recordAt(contact ?? null, 'profile'), 'name');
}

/** `[Forwarded] ` and the quote of a reply, as the Baileys provider words them; null for neither. */
async function prefixOf(context: Json | null, correspondentId: string, ctx: CloudInboundContext): Promise<string | null> {
  const parts: string[] = [];
  if (context?.forwarded === true || context?.frequently_forwarded === true) parts.push('[Forwarded]');
  const quotedId = stringAt(context, 'id');
  if (quotedId !== null) {
    // Meta sends only the quoted wamid: the text comes from Parley's own history, when it has it.
    const quoted = await ctx.quotedText(correspondentId, quotedId);
    parts.push(replyLabel(quoted));
  }
  return parts.length === 0 ? null : parts.join(' ');
}

/** On media the prefix heads the caption, so the text stays null and the processors see it. */
function withPrefix(content: Exclude<CloudContent, { kind: 'reaction' }>, prefix: string | null): Pick<InboundMessage, 'text' | 'media'> {
  if (content.kind === 'text') return { text: prefix === null ? content.text : `${prefix} ${content.text}`, media: null };
  const { caption } = content.media;
  if (prefix === null) return { text: null, media: content.media };
  return { text: null, media: { ...content.media, caption: caption === null ? prefix : `${prefix} ${caption}` } };
}

function readStatus(raw: Json): CloudStatus | null {
  const wamid = stringAt(raw, 'id');
  // A send addressed to a business-scoped id may come back without the phone number.
  const recipientId = stringAt(raw, 'recipient_id') ?? stringAt(raw, 'recipient_user_id');
  const status = stringAt(raw, 'status');
  if (wamid === null || recipientId === null || !isStatus(status)) return null;
  return { wamid, recipientId, status, at: epochMs(raw.timestamp), error: firstError(raw) };
}

function isStatus(value: string | null): value is CloudStatus['status'] {
  return value !== null && STATUSES.has(value);
}

function firstError(raw: Json): CloudStatus['error'] {
  const error = arrayAt(raw, 'errors').find(isRecord);
  if (error === undefined || typeof error.code !== 'number') return null;
  const message = stringAt(error, 'message');
  const title = stringAt(error, 'title') ?? message ?? `Error ${error.code}`;
  return { code: error.code, title, details: stringAt(recordAt(error, 'error_data'), 'details') ?? message };
}

/** Meta stamps seconds, as a string. */
function epochMs(value: unknown): number | null {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(seconds) ? seconds * 1000 : null;
}
