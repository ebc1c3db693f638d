import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
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
  { description: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Response schemas for error statuses, to spread into a route's `response`. */
export function errorResponses<const S extends readonly number[]>(...statuses: S): Record<S[number], typeof ErrorBody> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBody])) as Record<S[number], typeof ErrorBody>;
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
