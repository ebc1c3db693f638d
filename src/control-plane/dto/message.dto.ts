import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { OutboxState } from '../../ports/outbox-store.port.ts';
import { BOT_ID_PATTERN, CorrespondentId, Nullable, StringEnum, Timestamp } from './common.dto.ts';

const OUTBOX_STATES = ['pending', 'holding', 'sending', 'sent', 'failed'] as const satisfies readonly OutboxState[];

/** `POST /v1/bots/:id/messages`: queued in the outbox, sent (and retried) in the background. */
export const SendMessageBody = Type.Object(
  {
    to: CorrespondentId('Phone number, JID or group id'),
    text: Type.String({ minLength: 1, maxLength: 65_536 }),
  },
  { $id: 'SendMessageBody', additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

/** 202 answer: the outbox entry to poll. */
export const SendMessageAccepted = Type.Object({ id: Type.String(), state: StringEnum(OUTBOX_STATES) }, { $id: 'SendMessageAccepted' });
export type SendMessageAccepted = Static<typeof SendMessageAccepted>;

/** `GET /v1/bots/:id/outbox` filters. */
export const OutboxQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(OUTBOX_STATES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type OutboxQuery = Static<typeof OutboxQuery>;

/** `POST /v1/bots/:id/outbox/:messageId/retry`. */
export const OutboxMessageParams = Type.Object({ id: Type.String({ pattern: BOT_ID_PATTERN }), messageId: Type.String({ minLength: 1, maxLength: 128 }) });
export type OutboxMessageParams = Static<typeof OutboxMessageParams>;

/** One outbox entry: what was asked to be sent and how delivery is going. */
export const OutboxEntry = Type.Object({
  id: Type.String(),
  to: Type.String(),
  text: Type.String(),
  state: StringEnum(OUTBOX_STATES),
  attempt: Type.Integer({ minimum: 0, description: 'Send attempts so far' }),
  lastError: Nullable(Type.String()),
  // When a waiting message may next be sent; null once it is being sent or settled.
  nextAttemptAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'OutboxEntry' });
export type OutboxEntry = Static<typeof OutboxEntry>;

/** `GET /v1/bots/:id/outbox`: oldest first. */
export const OutboxList = Type.Object({ messages: Type.Array(OutboxEntry) }, { $id: 'OutboxList' });
export type OutboxList = Static<typeof OutboxList>;
