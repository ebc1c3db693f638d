import { retryAfterMs as parseRetryAfter } from '../webhooks/retry-after.ts';

/**
 * How a Graph API failure should be handled:
 * - `auth`: the access token is expired, revoked or lacks permission; nothing works until it is replaced.
 * - `rate-limited`: a throughput or pair limit; try again after `retryAfterMs`.
 * - `transient`: network, timeout, 5xx or a "temporarily unavailable" code; try again.
 * - `permanent`: the request itself is refused (invalid parameter, closed 24 h window, undeliverable).
 */
export type GraphErrorKind = 'auth' | 'rate-limited' | 'transient' | 'permanent';

export interface GraphErrorDetails {
  readonly kind: GraphErrorKind;
  readonly httpStatus?: number | null;
  readonly code?: number | null;
  readonly subcode?: number | null;
  readonly retryAfterMs?: number | null;
}

/**
 * A failed Graph API call. The message (`"131047 Re-engagement message: …"`) is safe to show and to
 * log: it never holds the access token nor a URL's query string.
 */
export class GraphError extends Error {
  readonly kind: GraphErrorKind;
  readonly httpStatus: number | null;
  readonly code: number | null;
  readonly subcode: number | null;
  readonly retryAfterMs: number | null;
  constructor(message: string, details: GraphErrorDetails) {
    super(message);
    this.name = 'GraphError';
    this.kind = details.kind;
    this.httpStatus = details.httpStatus ?? null;
    this.code = details.code ?? null;
    this.subcode = details.subcode ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

/** Throughput limits: app-level (4), account-level (80007), Cloud API throughput (130429), pair limit (131056), 613. */
const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([4, 80007, 130429, 131056, 613]);
/** The token itself is refused (190) or lacks the permission (10, 200–299). */
const isAuthCode = (code: number): boolean => code === 190 || code === 10 || (code >= 200 && code <= 299);
/**
 * Codes Meta documents as temporary whatever the HTTP status: unknown API error (1), service
 * temporarily unavailable (2), "something went wrong" (131000), service unavailable (131016),
 * server temporarily unavailable (133004).
 */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2, 131000, 131016, 133004]);

/** Wait asked for by the one-to-one pair limit (131056) when no `Retry-After` says otherwise. */
export const PAIR_RATE_LIMIT_WAIT_MS = 60_000;
/** Wait asked for by the other rate limits when no `Retry-After` says otherwise. */
export const RATE_LIMIT_WAIT_MS = 30_000;

/** Meta's titles for the codes Parley meets most, used ahead of the free-text message. */
const TITLES: Readonly<Record<number, string>> = {
  4: 'Too many API calls',
  10: 'Permission denied',
  100: 'Invalid parameter',
  190: 'Access token expired or invalid',
  613: 'Rate limit hit',
  80007: 'Rate limit issues',
  130429: 'Rate limit hit',
  131026: 'Message undeliverable',
  131047: 'Re-engagement message',
  131051: 'Unsupported message type',
  131056: 'Pair rate limit hit',
};

const MAX_MESSAGE = 300;

/** Reads `{error:{code, error_subcode, message, error_data:{details}}}`, tolerating anything else. */
function errorFields(body: unknown): { code: number | null; subcode: number | null; message: string | null; details: string | null } {
  const error = record(record(body)['error']);
  const int = (value: unknown): number | null => (typeof value === 'number' && Number.isSafeInteger(value) ? value : null);
  const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
  return {
    code: int(error['code']),
    subcode: int(error['error_subcode']),
    message: text(error['message']),
    details: text(record(error['error_data'])['details']),
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * Bounds a message to one short line, and drops query strings and fragments from any URL in it
 * (a media URL's query is a signed credential).
 */
export function safeMessage(text: string): string {
  const line = text
    .replace(/\b(https?:\/\/[^\s?#]+)[?#]\S*/gi, '$1?…')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/**
 * Classifies a Graph API failure. `httpStatus` null means no response at all (network error).
 * `body` is the parsed JSON error body, or anything else when there was none.
 */
export function classifyGraphError(httpStatus: number | null, body: unknown, retryAfterHeader: string | null): GraphError {
  if (httpStatus === null) return new GraphError('network error', { kind: 'transient' });
  const { code, subcode, message, details } = errorFields(body);
  const headerWait = parseRetryAfter(retryAfterHeader ?? undefined, Date.now());

  let kind: GraphErrorKind;
  if (httpStatus === 429 || (code !== null && RATE_LIMIT_CODES.has(code))) kind = 'rate-limited';
  else if (httpStatus === 401 || (code !== null && isAuthCode(code))) kind = 'auth';
  else if (httpStatus >= 500 || (code !== null && TRANSIENT_CODES.has(code))) kind = 'transient';
  else kind = 'permanent';

  const retryAfterMs = kind === 'rate-limited' ? (headerWait ?? (code === 131056 ? PAIR_RATE_LIMIT_WAIT_MS : RATE_LIMIT_WAIT_MS)) : headerWait;

  // "(#131047) Re-engagement message" → "Re-engagement message"
  const plain = message?.replace(/^\(#\d+\)\s*/, '') ?? null;
  const title = (code !== null ? TITLES[code] : undefined) ?? plain;
  const detail = details ?? (plain !== title ? plain : null);
  const head = code !== null ? `${code}` : `HTTP ${httpStatus}`;
  const text = [title, detail].filter((part) => part !== null && part !== '').join(': ');
  return new GraphError(safeMessage(text === '' ? head : `${head} ${text}`), { kind, httpStatus, code, subcode, retryAfterMs });
}
