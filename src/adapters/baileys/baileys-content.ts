import { getContentType, normalizeMessageContent, proto } from 'baileys';
import { mediaLabel } from '../../domain/media-content.ts';
import type { MediaKind } from '../../domain/media-kind.ts';
import { contactLabel, locationLabel, reactionLabel, replyLabel, unsupportedLabel } from '../../domain/message-labels.ts';
import type { InboundMedia } from '../../ports/provider.port.ts';

/** What a message says, before ids and download are attached. */
export type Content =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'media'; readonly media: Omit<InboundMedia, 'download'> }
  | { readonly kind: 'reaction'; readonly text: string };

type ContentType = keyof proto.IMessage;

/**
 * Content that is signalling or state, not something a person said, so it never reaches
 * history. `protocolMessage` is handled apart: its edits are kept.
 */
const NOT_CONVERSATION: ReadonlySet<ContentType> = new Set<ContentType>([
  'senderKeyDistributionMessage', // only key material when alone; next to content it is skipped by getContentType
  'fastRatchetKeySenderKeyDistributionMessage',
  'pollUpdateMessage', // a vote, encrypted to the poll
  'encEventResponseMessage', // an RSVP to an event
  'encReactionMessage', // a reaction we hold no key for
  'keepInChatMessage',
  'pinInChatMessage',
  'stickerSyncRmrMessage',
  'messageHistoryBundle',
  'messageHistoryNotice',
  'placeholderMessage', // stands in until the real message is resent
  'secretEncryptedMessage', // an encrypted edit of an event or poll
  'albumMessage', // announces the album; its pictures arrive as messages of their own
  'statusNotificationMessage',
]);

/**
 * Describes a message's content, wrappers (ephemeral, view once, document with caption, edit)
 * removed; null when it is not part of the conversation. A reply starts with
 * `[Reply to: "<excerpt>"] `, the excerpt being the quoted message on one line, cut to 80
 * characters with `…`: a model and a reader both see what is answered without the whole thread.
 * On media the quote heads the caption.
 */
export function describeContent(message: proto.IMessage | null | undefined): Content | null {
  const content = normalizeMessageContent(message);
  const type = getContentType(content);
  if (content === undefined || type === undefined) return null;
  const body = describeBody(content, type);
  if (body === null || body.kind === 'reaction') return body;
  const quoted = contextInfoOf(content, type)?.quotedMessage;
  if (!quoted) return body;
  const quote = replyLabel(summarize(quoted));
  if (body.kind === 'text') return { kind: 'text', text: `${quote} ${body.text}` };
  const { caption } = body.media;
  return { kind: 'media', media: { ...body.media, caption: caption === null ? quote : `${quote} ${caption}` } };
}

function describeBody(content: proto.IMessage, type: ContentType): Content | null {
  if (NOT_CONVERSATION.has(type)) return null;
  switch (type) {
    case 'conversation':
      return text(content.conversation ?? '');
    case 'extendedTextMessage':
      return text(content.extendedTextMessage?.text ?? '');
    case 'protocolMessage':
      return describeEdit(content.protocolMessage);
    case 'imageMessage':
      return media('image', content.imageMessage, 'image/jpeg');
    case 'videoMessage':
      // A GIF is a looping video on the wire; the bytes are what matter.
      return media('video', content.videoMessage, 'video/mp4');
    case 'ptvMessage':
      return media('video', content.ptvMessage, 'video/mp4');
    case 'audioMessage': {
      const audio = content.audioMessage;
      return audio?.ptt ? media('voice', audio, 'audio/ogg; codecs=opus') : media('audio', audio, 'audio/mpeg');
    }
    case 'documentMessage':
      return media('document', content.documentMessage, 'application/octet-stream');
    case 'stickerMessage':
      return media('sticker', content.stickerMessage, 'image/webp');
    case 'locationMessage': {
      const { degreesLatitude, degreesLongitude, name, address, url } = content.locationMessage ?? {};
      return text(locationLabel(degreesLatitude, degreesLongitude, [name, address], url));
    }
    case 'liveLocationMessage': {
      const { degreesLatitude, degreesLongitude, caption } = content.liveLocationMessage ?? {};
      return text(locationLabel(degreesLatitude, degreesLongitude, [caption], null));
    }
    case 'contactMessage':
      return text(contactLine(content.contactMessage ?? {}));
    case 'contactsArrayMessage':
      return text((content.contactsArrayMessage?.contacts ?? []).map(contactLine).join('\n') || '[Contact]');
    case 'reactionMessage': {
      const emoji = content.reactionMessage?.text;
      return { kind: 'reaction', text: reactionLabel(emoji) };
    }
    default:
      // Polls, buttons, payments, events…: said so rather than dropped, so history has a trace.
      return text(unsupportedLabel(type));
  }
}

/** An edit is told as a new message, so history keeps both versions in order. */
function describeEdit(protocol: proto.Message.IProtocolMessage | null | undefined): Content | null {
  if (protocol?.type !== proto.Message.ProtocolMessage.Type.MESSAGE_EDIT || !protocol.editedMessage) return null;
  const edited = normalizeMessageContent(protocol.editedMessage);
  // A caption edit carries the media message with only its new caption: the caption is the news.
  const plain = edited?.conversation || edited?.extendedTextMessage?.text || captionOf(edited);
  return text(`[Edited] ${plain || summarize(protocol.editedMessage)}`);
}

interface MediaFields {
  readonly mimetype?: string | null;
  readonly caption?: string | null;
  readonly fileName?: string | null;
  readonly fileLength?: number | { toNumber(): number } | null;
}

function media(kind: MediaKind, fields: MediaFields | null | undefined, fallbackMimetype: string): Content {
  return {
    kind: 'media',
    media: {
      kind,
      mimetype: fields?.mimetype || fallbackMimetype,
      fileName: fields?.fileName || null,
      caption: fields?.caption || null,
      sizeBytes: toNumber(fields?.fileLength),
    },
  };
}

/** One line for any content, for quotes and edits that carry no text of their own. */
function summarize(message: proto.IMessage): string {
  const content = normalizeMessageContent(message);
  const type = getContentType(content);
  const body = content === undefined || type === undefined ? null : describeBody(content, type);
  if (body === null) return unsupportedLabel(type ?? 'empty');
  if (body.kind !== 'media') return body.text;
  const label = mediaLabel(body.media);
  return body.media.caption === null ? label : `${label} ${body.media.caption}`;
}

/** `[Contact] <name>: <numbers, comma separated>`, the numbers from the vCard's TEL lines. */
function contactLine(contact: proto.Message.IContactMessage): string {
  // vCard folds long lines by starting the continuation with a space or tab.
  const lines = (contact.vcard ?? '').replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  const valueOf = (line: string): string => line.slice(line.indexOf(':') + 1).trim();
  const phones = lines.filter((line) => /^(?:[\w-]+\.)?TEL[;:]/i.test(line)).map(valueOf).filter((phone) => phone !== '');
  const fullName = lines.find((line) => /^FN[;:]/i.test(line));
  const name = contact.displayName || (fullName && valueOf(fullName)) || 'Unknown';
  return contactLabel(name, phones);
}

function contextInfoOf(content: proto.IMessage, type: ContentType): proto.IContextInfo | null {
  const inner = content[type];
  return typeof inner === 'object' && inner !== null && 'contextInfo' in inner ? (inner.contextInfo ?? null) : null;
}

function captionOf(content: proto.IMessage | undefined): string | null {
  const withCaption = content?.imageMessage ?? content?.videoMessage ?? content?.documentMessage;
  return withCaption?.caption || null;
}

function text(value: string): Content {
  return { kind: 'text', text: value };
}

/** Protobuf 64-bit fields arrive as a number or a Long. */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? value : value.toNumber();
}
