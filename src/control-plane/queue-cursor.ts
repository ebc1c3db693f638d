import { ParleyError } from '../domain/errors.ts';
import type { QueuePosition } from '../ports/actor-snapshot-store.port.ts';

/**
 * The `after` cursor of `GET /v1/bots/:id/correspondents`: where a page's last conversation sits
 * in the recency order. Opaque to clients, so the order key can change without changing the API.
 */
export function encodeQueueCursor(position: QueuePosition): string {
  return Buffer.from(JSON.stringify([position.lastAcceptedAt, position.id]), 'utf8').toString('base64url');
}

export function decodeQueueCursor(cursor: string): QueuePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2 && (parsed[0] === null || Number.isSafeInteger(parsed[0])) && typeof parsed[1] === 'string' && parsed[1].length > 0) {
    const [lastAcceptedAt, id]: unknown[] = parsed;
    if ((lastAcceptedAt === null || typeof lastAcceptedAt === 'number') && typeof id === 'string') return { lastAcceptedAt, id };
  }
  throw new ParleyError('VALIDATION_FAILED', 'querystring.after: not a cursor this API handed out', { details: { field: 'after' } });
}
