/** A phone number in international format, with or without its `+`. */
const PHONE_NUMBER = /^\+?\d{6,20}$/;

/**
 * The correspondent id a conversation is stored under, so a phone number given over REST names
 * the same conversation as the messages that arrived from it: WhatsApp Web (`baileys`) keys
 * one-to-one chats by the person's JID (`<digits>@s.whatsapp.net`), the Cloud API by the digits
 * alone. Every other id, and every id of another provider, is taken as it is.
 */
export function canonicalCorrespondent(provider: string, correspondentId: string): string {
  if (!PHONE_NUMBER.test(correspondentId)) return correspondentId;
  const digits = correspondentId.replace(/^\+/, '');
  if (provider === 'baileys') return `${digits}@s.whatsapp.net`;
  // The Cloud API names people by their number's digits (`wa_id`), without the `+`.
  if (provider === 'cloud-api') return digits;
  return correspondentId;
}
