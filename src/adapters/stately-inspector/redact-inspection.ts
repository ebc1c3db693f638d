import { createHmac, randomBytes } from 'node:crypto';

/** A Stately inspection event as it goes over the wire: plain JSON data. */
export type WireEvent = Record<string, unknown>;

/**
 * String fields shown as they are (digit runs still masked): names from the machines and their
 * bookkeeping, never anything a WhatsApp user wrote or is known by. Every other string in a
 * context or an event is replaced, so a field added later stays private until listed here.
 */
const SHOWN = new Set([
  'type', 'botId', 'kind', 'status', 'state', 'source', 'mimetype', 'stopReason', 'lastDisconnect', 'lastError', 'error', 'reason',
  'owner', 'jobId', 'mediaJobId', 'deliveryId', 'eventType', 'provider', 'id', 'providerMessageId',
]);
/** String fields that name a person or a chat: replaced by a pseudonym, stable for this process. */
const IDENTIFIERS = new Set(['correspondentId', 'from', 'to', 'jid', 'remoteJid', 'participant', 'sender', 'phone', 'phoneNumber', 'chatId', 'group']);
/** Top-level fields of an event that identify actors; the machine definition is static code. */
const EVENT_IDS = ['type', 'name', 'sessionId', 'rootId', 'parentId', 'sourceId', 'id'] as const;
/** Top-level fields the inspector orders and reads events by: a timestamp and a version, no data. */
const EVENT_META = ['createdAt', '_version'] as const;
/** Parts of a snapshot the inspector draws; the rest (children, history) is left out. */
const SNAPSHOT_PARTS = ['status', 'value', 'tags', 'context', 'output', 'error'] as const;
const MAX_DEPTH = 16;
const REDACTED = '[redacted]';

/**
 * Returns a function that strips message bodies, captions, names and phone numbers from a Stately
 * inspection event, keeping what the inspector needs to draw machines: state values, event types,
 * counters, ids. Phone numbers (any run of six or more digits) become pseudonyms such as
 * `~k3J9x0Qa`, keyed by a secret made for this process, so one correspondent keeps one pseudonym
 * across events without the number being recoverable from it.
 */
export function createInspectionRedactor(secret: Buffer = randomBytes(32)): (event: WireEvent) => WireEvent {
  const pseudonym = (value: string): string => `~${createHmac('sha256', secret).update(value).digest('base64url').slice(0, 8)}`;
  const maskDigits = (value: string): string => value.replace(/\+?\d{6,}/g, (run) => pseudonym(run.replace('+', '')));
  const identifier = (value: string): string => {
    const masked = maskDigits(value);
    return masked === value && value !== '' ? pseudonym(value) : masked;
  };

  /** `personal`: inside a field that names someone (a `sender` object), where every string does. */
  function redact(value: unknown, key: string, depth: number, personal = false): unknown {
    const named = personal || IDENTIFIERS.has(key);
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    if (typeof value === 'string') {
      if (named) return identifier(value);
      return SHOWN.has(key) ? maskDigits(value) : REDACTED;
    }
    if (typeof value !== 'object') return value === undefined ? undefined : REDACTED;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) return value.map((item) => redact(item, key, depth + 1, named));
    const out: Record<string, unknown> = {};
    // Keys can be data too (a map by correspondent), so their digit runs are masked as well.
    for (const [field, item] of Object.entries(value)) out[maskDigits(field)] = redact(item, field, depth + 1, named);
    return out;
  }

  return (event) => {
    const out: WireEvent = {};
    for (const field of EVENT_IDS) if (typeof event[field] === 'string') out[field] = maskDigits(event[field]);
    for (const field of EVENT_META) if (typeof event[field] === 'string' && /^[\d.]{1,20}$/.test(event[field])) out[field] = event[field];
    if (typeof event['definition'] === 'string') out['definition'] = event['definition'];
    const snapshot = event['snapshot'];
    if (typeof snapshot === 'object' && snapshot !== null) {
      const parts: Record<string, unknown> = {};
      for (const part of SNAPSHOT_PARTS) {
        const value = (snapshot as Record<string, unknown>)[part];
        if (value === undefined) continue;
        // State values and tags are names from the machine; contexts and outputs are data.
        parts[part] = part === 'status' || part === 'value' || part === 'tags' ? redactNames(value, maskDigits) : redact(value, part, 0);
      }
      out['snapshot'] = parts;
    }
    if (typeof event['event'] === 'object' && event['event'] !== null) out['event'] = redact(event['event'], 'event', 0);
    return out;
  };
}

/** A state value or tag list: every string in it is a state or tag name, shown with digit runs masked. */
function redactNames(value: unknown, maskDigits: (value: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return maskDigits(value);
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) return typeof value === 'object' ? null : value;
  if (Array.isArray(value)) return value.map((item) => redactNames(item, maskDigits, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([name, child]) => [maskDigits(name), redactNames(child, maskDigits, depth + 1)]));
}
