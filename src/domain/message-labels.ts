/**
 * How messages that are not plain text read in a conversation, whichever provider brought them:
 * one wording, so history and the AI see the same thing for a WhatsApp Web and a Cloud API bot.
 */

/** Longest quote a reply shows of the message it answers. */
export const QUOTE_MAX_CHARS = 80;

/** A quoted message on one line, cut to `QUOTE_MAX_CHARS` (whole characters, emoji included) with `…`. */
export function quoteExcerpt(quoted: string): string {
  const chars = Array.from(quoted.replace(/\s+/g, ' ').trim());
  return chars.length <= QUOTE_MAX_CHARS ? chars.join('') : `${chars.slice(0, QUOTE_MAX_CHARS).join('')}…`;
}

/** `[Reply to: "<excerpt>"]`, or `[Reply to an earlier message]` when the quoted text is unknown. */
export function replyLabel(quoted: string | null): string {
  return quoted === null ? '[Reply to an earlier message]' : `[Reply to: "${quoteExcerpt(quoted)}"]`;
}

/** `[Location] <lat>, <lng>`, then ` — <name>, <address>` and ` <url>` when known. */
export function locationLabel(lat: number | null | undefined, lng: number | null | undefined, details: readonly (string | null | undefined)[], url: string | null | undefined): string {
  const named = details.filter((detail): detail is string => !!detail).join(', ');
  return `[Location] ${lat ?? 0}, ${lng ?? 0}${named ? ` — ${named}` : ''}${url ? ` ${url}` : ''}`;
}

/** `[Contact] <name>: <numbers, comma separated>`, or just the name when no number was shared. */
export function contactLabel(name: string, phones: readonly string[]): string {
  return phones.length === 0 ? `[Contact] ${name}` : `[Contact] ${name}: ${phones.join(', ')}`;
}

/** `[Reaction 👍]`, or `[Reaction removed]` for an empty emoji. */
export function reactionLabel(emoji: string | null | undefined): string {
  return emoji ? `[Reaction ${emoji}]` : '[Reaction removed]';
}

/** `[Unsupported message: <type>]`, with the provider's note in parentheses when it gave one. */
export function unsupportedLabel(type: string, note: string | null = null): string {
  return `[Unsupported message: ${type}]${note ? ` (${note})` : ''}`;
}
