import { isJidBroadcast, isJidGroup, isJidNewsletter, isLidUser, isPnUser, jidNormalizedUser } from 'baileys';
import type { WAMessage } from 'baileys';
import type { Sender } from '../../domain/queue-message.ts';
import type { MediaBytes } from '../../ports/media-store.port.ts';
import type { InboundMessage } from '../../ports/provider.port.ts';
import { OWNER_SENDER_ID } from '../simulator/simulator-inbound.ts';
import { describeContent, toNumber } from './baileys-content.ts';
import type { LidMappings } from './baileys-socket.ts';

export interface InboundContext {
  /** The phone-number JID a LID stands for, when the mapping is known. */
  readonly lidMappings: LidMappings;
  /** Makes the download of a media message (the provider supplies re-upload and streaming). */
  download(message: WAMessage): () => Promise<MediaBytes>;
}

/**
 * Turns one Baileys message into Parley's inbound message; null for what is not a conversation
 * message: no key or id, status and other broadcasts, newsletters, content-less stubs, and the
 * signalling listed in `baileys-content.ts` (protocol messages other than edits, key
 * distribution, poll votes, pins…). Rejects when the LID mapping store fails, so the provider
 * can retry rather than file the message under the wrong chat.
 */
export async function normalizeInbound(message: WAMessage, ctx: InboundContext): Promise<InboundMessage | null> {
  const key = message.key;
  const chat = key?.remoteJid;
  const providerMessageId = key?.id;
  if (!chat || !providerMessageId || isJidBroadcast(chat) || isJidNewsletter(chat)) return null;
  const content = describeContent(message.message);
  if (content === null) return null;

  const fromMe = key.fromMe === true;
  const group = isJidGroup(chat) ? chat : null;
  const correspondentId = group ?? (await phoneJid(chat, key.remoteJidAlt, ctx.lidMappings));
  const displayName = message.pushName || null;
  let sender: Sender;
  if (fromMe) sender = { id: OWNER_SENDER_ID, displayName: null };
  else if (group === null) sender = { id: correspondentId, displayName };
  else sender = { id: await phoneJid(key.participant || message.participant || group, key.participantAlt, ctx.lidMappings), displayName };

  const timestamp = toNumber(message.messageTimestamp);
  return {
    providerMessageId,
    correspondentId,
    sender,
    group,
    // 0 is protobuf's "unset", not 1970.
    originatingAt: timestamp ? timestamp * 1000 : null,
    text: content.kind === 'media' ? null : content.text,
    media: content.kind === 'media' ? { ...content.media, download: ctx.download(message) } : null,
    fromMe,
    ...(content.kind === 'reaction' ? { reaction: true } : {}),
  };
}

/**
 * The phone-number JID of a user when it can be known, else the LID: a chat must have one id
 * whether WhatsApp addresses it by LID or by number. A LID met next to its number is remembered,
 * so a later LID-only message from the same person lands in the same chat.
 */
async function phoneJid(jid: string, alt: string | null | undefined, mappings: LidMappings): Promise<string> {
  const primary = jidNormalizedUser(jid) || jid;
  const other = alt ? jidNormalizedUser(alt) : '';
  if (isPnUser(primary)) {
    if (isLidUser(other)) await mappings.storeLIDPNMappings([{ lid: other, pn: primary }]);
    return primary;
  }
  if (!isLidUser(primary)) return primary;
  if (isPnUser(other)) {
    await mappings.storeLIDPNMappings([{ lid: primary, pn: other }]);
    return other;
  }
  // The store answers with a device-qualified JID ("491511234:0@s.whatsapp.net").
  const known = await mappings.getPNForLID(primary);
  return known ? jidNormalizedUser(known) || known : primary;
}
