import type { ErrorCode } from '../domain/errors.ts';

/** The one mapping from Parley's stable error codes to HTTP status codes. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  CONFIG_INVALID: 500,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
  STORE_TIMEOUT: 503,
  STORE_DUPLICATE_KEY: 409,
  STORE_WRITE_CONFLICT: 409,
  STORE_ERROR: 500,
  INCOMPATIBLE_SNAPSHOT: 500,
  NOT_SUPPORTED_BY_PROVIDER: 409,
  INTERNAL: 500,
});

/** The wire shape of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
    },
  },
} as const;
