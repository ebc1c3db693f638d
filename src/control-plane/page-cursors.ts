import { ParleyError } from '../domain/errors.ts';
import type { QueuePosition } from '../ports/actor-snapshot-store.port.ts';
import type { MediaJobPosition, MediaJobRecord } from '../ports/media-job-store.port.ts';

/**
 * `after` cursors of the paged lists: where a page's last item sits in the list's order. Opaque to
 * clients (base64url of a JSON pair), so an order key can change without changing the API.
 */
function encode(pair: readonly [unknown, string]): string {
  return Buffer.from(JSON.stringify(pair), 'utf8').toString('base64url');
}

/** The pair inside a cursor, or a 400 naming `querystring.after` when it is not one this API made. */
function decode<T>(cursor: string, read: (first: unknown, id: string) => T | undefined): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[1] === 'string' && parsed[1].length > 0) {
    const position = read(parsed[0], parsed[1]);
    if (position !== undefined) return position;
  }
  throw new ParleyError('VALIDATION_FAILED', 'querystring.after: not a cursor this API handed out', { details: { field: 'after' } });
}

/** `GET /v1/jobs`: a job's listing position (`createdAt`, id). */
export const encodeJobCursor = (job: Pick<MediaJobRecord, 'createdAt' | 'id'>): string => encode([job.createdAt.getTime(), job.id]);
export const decodeJobCursor = (cursor: string): MediaJobPosition =>
  decode(cursor, (time, id) => (Number.isSafeInteger(time) && typeof time === 'number' ? { createdAt: new Date(time), id } : undefined));

/** `GET /v1/bots/:id/correspondents`: a conversation's place in recency order. */
export const encodeQueueCursor = (position: QueuePosition): string => encode([position.lastAcceptedAt, position.id]);
export const decodeQueueCursor = (cursor: string): QueuePosition =>
  decode(cursor, (time, id) => (time === null || (typeof time === 'number' && Number.isSafeInteger(time)) ? { lastAcceptedAt: time, id } : undefined));
