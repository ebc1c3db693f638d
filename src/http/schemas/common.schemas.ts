import { Type } from '@sinclair/typebox';
import type { Static, TSchema, TUnsafe } from '@sinclair/typebox';
import { ERROR_CODES } from '../../domain/errors.ts';

/**
 * A string limited to `values`, emitted as a plain `enum` rather than TypeBox's `anyOf` of
 * literals: Ajv then names the field in one error, and the response serializer needs no branch
 * matching.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `T` or `null`; the OpenAPI generator turns it into `nullable: true`. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Epoch milliseconds, as the actors keep their clocks. */
export const EpochMs = Type.Integer({ minimum: 0, description: 'Epoch milliseconds' });

/** A timestamp serialized as ISO 8601; `Date` values are converted on the way out. */
export const Timestamp = Type.String({ format: 'date-time' });

/** The wire shape of every error response. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: StringEnum(ERROR_CODES, { description: 'Stable error code; never renamed once released' }),
      message: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
  { description: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Response schemas for error statuses, to spread into a route's `response`. */
export function errorResponses<const S extends readonly number[]>(...statuses: S): Record<S[number], typeof ErrorBody> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBody])) as Record<S[number], typeof ErrorBody>;
}

/** Bot ids are URL- and log-safe: lower-case letters, digits and dashes. */
export const BOT_ID_PATTERN = '^[a-z0-9-]{1,64}$';

export const BotIdParams = Type.Object({ id: Type.String({ pattern: BOT_ID_PATTERN }) });
export type BotIdParams = Static<typeof BotIdParams>;

/** A correspondent id is a phone number, JID or group id; it arrives URL-encoded. */
export const CorrespondentParams = Type.Object({
  id: Type.String({ pattern: BOT_ID_PATTERN }),
  cid: Type.String({ minLength: 1, maxLength: 256 }),
});
export type CorrespondentParams = Static<typeof CorrespondentParams>;
