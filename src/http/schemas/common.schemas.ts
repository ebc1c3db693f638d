import { Type } from '@sinclair/typebox';
import type { Static, TSchema, TUnsafe } from '@sinclair/typebox';
import { BOT_ID_PATTERN, StringEnum } from '../../control-plane/dto/common.dto.ts';
import { ERROR_CODES } from '../../domain/errors.ts';

/** The wire shape of every error response. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: StringEnum(ERROR_CODES, { description: 'Stable error code; never renamed once released' }),
      message: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
  { $id: 'ErrorBody', description: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/**
 * A reference to a named schema (one with an `$id`, registered by `registerSharedSchemas`), typed
 * as the schema itself: the OpenAPI document then shows it once, under its name.
 */
export function ref<T extends TSchema>(schema: T, options: { description?: string } = {}): TUnsafe<Static<T>> {
  if (schema.$id === undefined) throw new Error('only a schema with an $id can be referenced');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id, options));
}

/** What each error status of the API means, as the document describes it. */
const ERROR_STATUSES = {
  400: 'Invalid request: a path parameter, the query or the body (VALIDATION_FAILED), or a URL that does not decode (BAD_URL)',
  401: 'Missing or wrong bearer token (UNAUTHORIZED), or a webhook body not signed with the app secret (WEBHOOK_SIGNATURE_INVALID)',
  403: 'Webhook verification refused (WEBHOOK_VERIFICATION_FAILED)',
  404: 'Not found (NOT_FOUND)',
  409: 'In conflict with the current state',
  413: 'Body larger than the limit (PAYLOAD_TOO_LARGE)',
  414: 'A path parameter longer than the limit (URI_TOO_LONG)',
  415: 'A body that is not JSON (UNSUPPORTED_MEDIA_TYPE)',
  429: 'Rate limit exceeded (RATE_LIMITED); Retry-After says when to try again',
  503: 'The store is unreachable or slow (STORE_UNAVAILABLE, STORE_TIMEOUT), Parley is shutting down (SHUTTING_DOWN), or, on the routes of one bot, ' +
    'no live instance hosts the bot right now or its host does not answer (OWNER_UNAVAILABLE, with Retry-After), or the bot changed hands during the call (LEASE_LOST); retry later',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUSES;

/** Response schemas for error statuses, to spread into a route's `response`. */
export function errorResponses<const S extends readonly ErrorStatus[]>(...statuses: S): Record<S[number], TUnsafe<ErrorBody>> {
  const entries = statuses.map((status) => [status, ref(ErrorBody, { description: ERROR_STATUSES[status] })] as const);
  return Object.fromEntries(entries) as Record<S[number], TUnsafe<ErrorBody>>;
}

export const BotIdParams = Type.Object({ id: Type.String({ pattern: BOT_ID_PATTERN }) });
export type BotIdParams = Static<typeof BotIdParams>;

/** A correspondent id is a phone number, JID or group id; it arrives URL-encoded. */
export const CorrespondentParams = Type.Object({
  id: Type.String({ pattern: BOT_ID_PATTERN }),
  cid: Type.String({ minLength: 1, maxLength: 256 }),
});
export type CorrespondentParams = Static<typeof CorrespondentParams>;

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export type JobIdParams = Static<typeof JobIdParams>;
