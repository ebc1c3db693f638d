/**
 * The error catalogue: every stable code with its HTTP status and message template. Clients, logs
 * and metrics key on the codes, so a code is never renamed or given another status once released;
 * more specific codes are added beside a general one instead of replacing it.
 *
 * A template names its parameters in braces; `ParleyError.of` checks at compile time that exactly
 * those are given. Messages of server errors (5xx) are for the log: the HTTP layer answers those
 * with a generic text and the request id.
 */
export const ERROR_CATALOGUE = {
  CONFIG_INVALID: { status: 500, message: 'Invalid configuration: {problem}' },
  VALIDATION_FAILED: { status: 400, message: '{field}: {problem}' },
  BAD_URL: { status: 400, message: 'The request path is not a valid URL: {path}' },
  URI_TOO_LONG: { status: 414, message: 'A path segment is longer than {limit} characters' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type {type} is not accepted; send application/json' },
  UNAUTHORIZED: { status: 401, message: 'Missing or invalid {credential}' },
  NOT_FOUND: { status: 404, message: '{resource} not found' },
  CONFLICT: { status: 409, message: '{reason}' },
  BOT_EXISTS: { status: 409, message: 'Bot {id} already exists' },
  BOT_BEING_DELETED: { status: 409, message: 'Bot {id} is being deleted; create it again once that is done' },
  BOT_NOT_RUNNING: { status: 409, message: 'Bot {id} is not running; start it first' },
  LIMIT_REACHED: { status: 409, message: 'This instance holds its maximum of {limit} {what} ({setting})' },
  JOB_NOT_RETRYABLE: { status: 409, message: 'Media job {id} is {state}; only failed jobs can be retried' },
  MESSAGE_NOT_RETRYABLE: { status: 409, message: 'Outgoing message {id} is {state}; only failed messages can be retried' },
  DELIVERY_NOT_RETRYABLE: { status: 409, message: 'Webhook delivery {id} is {state}; only failed deliveries can be retried' },
  WEBHOOK_URL_REFUSED: { status: 400, message: 'url: {reason}' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Request body is larger than {limit} bytes' },
  RATE_LIMITED: { status: 429, message: 'Rate limit exceeded, retry in {after}' },
  TOO_MANY_LARGE_BODIES: { status: 429, message: 'More than {limit} large request bodies are being received at once; retry shortly' },
  TOO_MANY_STREAMS: { status: 429, message: 'Too many open event streams ({limit} for {scope}); close one first' },
  STORE_UNAVAILABLE: { status: 503, message: '{operation}: database unreachable' },
  STORE_TIMEOUT: { status: 503, message: '{operation}: timed out' },
  SHUTTING_DOWN: { status: 503, message: 'Parley is shutting down; retry once it is back' },
  OWNER_UNAVAILABLE: { status: 503, message: 'Bot {id} is changing hands (no live instance hosts it right now); retry shortly' },
  LEASE_LOST: { status: 503, message: 'This instance no longer owns bot {id}; retry and the call reaches its new owner' },
  STORE_DUPLICATE_KEY: { status: 409, message: '{operation}: duplicate key' },
  STORE_WRITE_CONFLICT: { status: 409, message: '{operation}: write conflict' },
  STORE_ERROR: { status: 500, message: '{operation}: {reason}' },
  STORE_MIGRATION_REQUIRED: { status: 500, message: 'Index {index} of collection {collection} cannot be built: {reason}' },
  INCOMPATIBLE_SNAPSHOT: { status: 500, message: '{actor} was stored by machine version {version}' },
  SECRET_UNREADABLE: { status: 500, message: 'The secret of {context} cannot be decrypted: {reason}' },
  NOT_SUPPORTED_BY_PROVIDER: { status: 409, message: 'Provider {provider} does not support {feature}' },
  ALREADY_PAIRED: { status: 409, message: 'Bot {id} is already linked to a WhatsApp account; log it out to pair another' },
  PAIRING_NOT_READY: { status: 409, message: 'Bot {id} is not waiting to be paired ({reason}); retry once GET /v1/bots/{id}/qr shows a code' },
  PROVIDER_ERROR: { status: 502, message: 'The provider failed: {reason}' },
  WEBHOOK_SIGNATURE_INVALID: { status: 401, message: 'X-Hub-Signature-256 is missing or is not the app secret\'s signature of this body' },
  WEBHOOK_VERIFICATION_FAILED: { status: 403, message: 'Webhook verification refused: {reason}' },
  MALFORMED_PAYLOAD: { status: 400, message: 'The signed payload is not a WhatsApp notification: {problem}' },
  INTERNAL: { status: 500, message: 'Internal error: {reason}' },
} as const satisfies Readonly<Record<string, { readonly status: number; readonly message: string }>>;

type Catalogue = typeof ERROR_CATALOGUE;

export type ErrorCode = keyof Catalogue;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as readonly ErrorCode[];

/** The names in braces of a message template. */
type Placeholders<T extends string> = T extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

/** What `ParleyError.of` needs to fill in the template of `C`. */
export type ErrorParams<C extends ErrorCode> = { readonly [P in Placeholders<Catalogue[C]['message']>]: string | number };

export interface ParleyErrorOptions {
  /** Structured context; sent to clients only with client errors (4xx), always logged. */
  readonly details?: Record<string, unknown>;
  readonly cause?: unknown;
}

/** A code's parameters may be left out only when its template has none. */
type OfArguments<C extends ErrorCode> = [Placeholders<Catalogue[C]['message']>] extends [never]
  ? [params?: ErrorParams<C>, options?: ParleyErrorOptions]
  : [params: ErrorParams<C>, options?: ParleyErrorOptions];

/** The HTTP status the catalogue fixes for `code`. */
export function errorStatus(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}

/** Fills a template's `{name}` slots; a slot without a value stays as written so the gap is visible. */
function renderErrorMessage(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (slot, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : slot));
}

/** The one error type Parley raises across layers; `code` is the contract, `message` is for humans. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /**
   * Takes a ready message, for callers whose wording does not fit the code's template; the code's
   * status still comes from the catalogue. `ParleyError.of` is the checked way.
   */
  constructor(code: ErrorCode, message: string, options?: ParleyErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.details = options?.details === undefined ? undefined : Object.freeze({ ...options.details });
  }

  /** An error of `code` whose message is the catalogue's template filled with `params`. */
  static of<C extends ErrorCode>(code: C, ...[params, options]: OfArguments<C>): ParleyError {
    return new ParleyError(code, renderErrorMessage(ERROR_CATALOGUE[code].message, params ?? {}), options);
  }
}

export function isParleyError(err: unknown, code?: ErrorCode): err is ParleyError {
  return err instanceof ParleyError && (code === undefined || err.code === code);
}
