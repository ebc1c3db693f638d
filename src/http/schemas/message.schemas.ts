import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { OutboxState } from '../../ports/outbox-store.port.ts';
import { StringEnum } from './common.schemas.ts';

const OUTBOX_STATES = ['pending', 'sending', 'sent', 'failed'] as const satisfies readonly OutboxState[];

/** `POST /v1/bots/:id/messages`: queued in the outbox, sent (and retried) in the background. */
export const SendMessageBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 256, description: 'Phone number, JID or group id' }),
    text: Type.String({ minLength: 1, maxLength: 65_536 }),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

/** 202 answer: the outbox entry to poll. */
export const SendMessageAccepted = Type.Object({ id: Type.String(), state: StringEnum(OUTBOX_STATES) });
export type SendMessageAccepted = Static<typeof SendMessageAccepted>;
