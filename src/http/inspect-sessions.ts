import { createHash, randomBytes } from 'node:crypto';

/** The cookie `/inspect` keeps its session in; scoped to `/inspect` by its Path. */
export const INSPECT_COOKIE = 'parley_inspect';
export const DEFAULT_INSPECT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Opaque sessions of the inspector page. The cookie carries a random token, never a key, so a
 * leaked cookie grants the read-only page until it expires and nothing under `/v1`. Tokens are
 * kept as digests: a heap dump does not hand out live sessions.
 */
export interface InspectSessions {
  /** A new session's token. */
  issue(): string;
  valid(token: string): boolean;
  readonly ttlMs: number;
}

export interface InspectSessionOptions {
  readonly ttlMs?: number;
  /** Sessions alive at once; the oldest is dropped first (every key exchange makes one). */
  readonly maxSessions?: number;
  readonly clock?: () => number;
}

export function createInspectSessions(options: InspectSessionOptions = {}): InspectSessions {
  const ttlMs = options.ttlMs ?? DEFAULT_INSPECT_SESSION_TTL_MS;
  const maxSessions = options.maxSessions ?? 1000;
  const clock = options.clock ?? Date.now;
  // Insertion order is expiry order (one TTL for all), so the first entry is always the oldest.
  const expiries = new Map<string, number>();
  const digest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

  return {
    ttlMs,
    issue() {
      const token = randomBytes(32).toString('base64url');
      expiries.set(digest(token), clock() + ttlMs);
      while (expiries.size > maxSessions) expiries.delete(expiries.keys().next().value as string);
      return token;
    },
    valid(token) {
      const key = digest(token);
      const expiresAt = expiries.get(key);
      if (expiresAt === undefined) return false;
      if (expiresAt > clock()) return true;
      expiries.delete(key);
      return false;
    },
  };
}

/** The value of cookie `name` in a `Cookie` header, or `null`; a linear scan, no pattern. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * `Set-Cookie` for a session: unreadable by scripts (HttpOnly), never sent by another site's
 * requests (SameSite=Strict), only to `/inspect`, and over HTTPS only when the page came that way.
 */
export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [`${INSPECT_COOKIE}=${token}`, 'HttpOnly', 'SameSite=Strict', 'Path=/inspect', `Max-Age=${Math.floor(maxAgeMs / 1000)}`];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}
