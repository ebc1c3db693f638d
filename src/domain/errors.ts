/**
 * Stable error codes. Clients, logs and metrics key on these strings, so a code is never renamed
 * once released; the HTTP status for each lives in the HTTP error registry.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'STORE_UNAVAILABLE',
  'STORE_TIMEOUT',
  'STORE_DUPLICATE_KEY',
  'STORE_WRITE_CONFLICT',
  'STORE_ERROR',
  'INCOMPATIBLE_SNAPSHOT',
  'NOT_SUPPORTED_BY_PROVIDER',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error type Parley raises across layers; `code` is the contract, `message` is for humans. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { details?: Record<string, unknown>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.details = options?.details === undefined ? undefined : Object.freeze({ ...options.details });
  }
}

export function isParleyError(err: unknown, code?: ErrorCode): err is ParleyError {
  return err instanceof ParleyError && (code === undefined || err.code === code);
}
