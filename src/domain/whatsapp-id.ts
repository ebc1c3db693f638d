/** A phone number in international format, with or without its `+`. */
const PHONE_NUMBER = /^\+?\d{6,20}$/;

/**
 * The correspondent id a conversation is stored under. WhatsApp Web (`baileys`) keys one-to-one
 * chats by the person's JID (`<digits>@s.whatsapp.net`), so a bare phone number given over REST
 * names the same conversation as the messages that arrived from it; every other id, and every id
 * of another provider, is taken as it is.
 */
export function canonicalCorrespondent(provider: string, correspondentId: string): string {
  if (provider !== 'baileys' || !PHONE_NUMBER.test(correspondentId)) return correspondentId;
  return `${correspondentId.replace(/^\+/, '')}@s.whatsapp.net`;
}
