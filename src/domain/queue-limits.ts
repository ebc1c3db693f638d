import type { QueueLimits } from './queue-message.ts';

/** Milliseconds in a day; `maxAgeDays` is converted with this. */
export const DAY_MS = 86_400_000;

/** WhatsApp's own ceiling for a text or caption; an instance may accept less (INBOUND_TEXT_MAX_CHARS). */
export const WHATSAPP_TEXT_CHARS = 65_536;

/** Longest text the Cloud API sends in one message. */
export const CLOUD_API_TEXT_CHARS = 4_096;

/** Longest text one message of this provider carries. */
export const textLimitOf = (provider: string): number => (provider === 'cloud-api' ? CLOUD_API_TEXT_CHARS : WHATSAPP_TEXT_CHARS);

/** Appended to content cut by `maxCharactersPerMessage`, so the reader sees it is incomplete. */
export const TRUNCATION_MARKER = ' [truncated]';

/**
 * Ceilings of the queue limits. A window is stored slim (ids and sizes; the text stays in history),
 * so these keep a stored queue far below MongoDB's 16 MiB document limit, and the window an AI
 * reads within reason.
 */
export const QUEUE_LIMIT_CEILINGS: Readonly<QueueLimits> = { maxMessages: 10_000, maxCharacters: 1_000_000, maxAgeDays: 3_650, maxCharactersPerMessage: 65_536 };

/**
 * Lists every problem with a set of limits (empty when valid). The per-message cap must leave
 * room for the truncation marker, otherwise a cut message could not show that it was cut.
 */
export function validateLimits(limits: QueueLimits): string[] {
  const errors: string[] = [];
  const positiveIntegers = ['maxMessages', 'maxCharacters', 'maxCharactersPerMessage'] as const;
  for (const key of positiveIntegers) {
    const value = limits[key];
    if (!Number.isInteger(value) || value < 1) errors.push(`${key} must be a positive integer (got ${value})`);
  }
  if (!Number.isFinite(limits.maxAgeDays) || limits.maxAgeDays <= 0) {
    errors.push(`maxAgeDays must be a positive number (got ${limits.maxAgeDays})`);
  }
  for (const key of Object.keys(QUEUE_LIMIT_CEILINGS) as (keyof QueueLimits)[]) {
    if (limits[key] > QUEUE_LIMIT_CEILINGS[key]) errors.push(`${key} must be at most ${QUEUE_LIMIT_CEILINGS[key]} (got ${limits[key]})`);
  }
  if (Number.isInteger(limits.maxCharactersPerMessage) && limits.maxCharactersPerMessage <= TRUNCATION_MARKER.length) {
    errors.push(`maxCharactersPerMessage must exceed ${TRUNCATION_MARKER.length} to fit the truncation marker`);
  }
  return errors;
}

/**
 * Cuts `content` to at most `maxLength` characters, ending with `TRUNCATION_MARKER`. Content that
 * fits is returned unchanged. A surrogate pair is never split, so the result stays valid text.
 */
export function truncateContent(content: string, maxLength: number): string {
  if (content.length <= maxLength) return content;
  if (maxLength <= TRUNCATION_MARKER.length) return dropDanglingSurrogate(content.slice(0, maxLength));
  const kept = dropDanglingSurrogate(content.slice(0, maxLength - TRUNCATION_MARKER.length));
  return kept + TRUNCATION_MARKER;
}

function dropDanglingSurrogate(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  const isHighSurrogate = last >= 0xd800 && last <= 0xdbff;
  return isHighSurrogate ? text.slice(0, -1) : text;
}

/**
 * The content `truncateContent` made of `content` under a limit it did not keep, given only the
 * length that cut produced. Exact for every limit `validateLimits` accepts: a cut keeps a prefix
 * of `content` and appends the marker, so its length fixes the prefix, surrogate handling
 * included, where cutting again at that length could drop one more character.
 */
export function cutToSize(content: string, size: number): string {
  if (size >= content.length) return content;
  if (size < TRUNCATION_MARKER.length) return content.slice(0, size);
  return content.slice(0, size - TRUNCATION_MARKER.length) + TRUNCATION_MARKER;
}
