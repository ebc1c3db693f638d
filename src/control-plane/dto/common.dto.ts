import { Kind, Type, TypeRegistry } from '@sinclair/typebox';
import type { TSchema, TUnsafe } from '@sinclair/typebox';

// Teaches TypeBox's own checker (bot settings are checked with it beside Ajv) what a StringEnum is.
TypeRegistry.Set<{ enum: readonly unknown[] }>('StringEnum', (schema, value) => schema.enum.includes(value));

/**
 * A string limited to `values`, emitted as a plain `enum` rather than TypeBox's `anyOf` of
 * literals: Ajv then names the field in one error, and the response serializer needs no branch
 * matching.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ [Kind]: 'StringEnum', type: 'string', enum: [...values], ...options });
}

/** `T` or `null`; the OpenAPI generator turns it into `nullable: true`. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Epoch milliseconds, as the actors keep their clocks. */
export const EpochMs = Type.Integer({ minimum: 0, description: 'Epoch milliseconds' });

/**
 * A timestamp on its way out: the control plane hands over a `Date`, the response serializer
 * writes it as ISO 8601. Used in responses only; nothing validates a request against it.
 */
export const Timestamp = Type.Unsafe<Date>({ type: 'string', format: 'date-time' });

/**
 * A correspondent as providers name it (phone number, JID, group id): no spaces or control
 * characters, which no provider id contains and which would make a conversation unreachable by URL.
 */
export const CorrespondentId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\s\\u0000-\\u001f\\u007f]+$', description });

/** Bot ids are URL- and log-safe: lower-case letters, digits and dashes. */
export const BOT_ID_PATTERN = '^[a-z0-9-]{1,64}$';

/**
 * Object options saying exactly one of `names` must be present, as a `oneOf` of `required`
 * clauses that OpenAPI 3.0 can express; the HTTP layer words a failure as "exactly one of ...".
 */
export function exactlyOneOf(...names: readonly string[]): { oneOf: { required: string[] }[] } {
  return { oneOf: names.map((name) => ({ required: [name] })) };
}
