import { ParleyError } from '../domain/errors.ts';
import type { MediaJobPosition, MediaJobRecord } from '../ports/media-job-store.port.ts';

/**
 * The `after` cursor of `GET /v1/jobs`: the listing position (`createdAt`, id) of a page's last
 * job. Opaque to clients, so the order key can change without changing the API.
 */
export function encodeJobCursor(job: Pick<MediaJobRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([job.createdAt.getTime(), job.id]), 'utf8').toString('base64url');
}

export function decodeJobCursor(cursor: string): MediaJobPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && typeof parsed[1] === 'string' && parsed[1].length > 0) {
    return { createdAt: new Date(parsed[0] as number), id: parsed[1] };
  }
  throw new ParleyError('VALIDATION_FAILED', 'querystring.after: not a cursor this API handed out', { details: { field: 'after' } });
}
