import type { HistoryStatus } from '../../ports/history-store.port.ts';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Nullable, StringEnum, Timestamp } from './common.dto.ts';

const MESSAGE_SOURCES = ['user', 'bot', 'owner', 'system'] as const;

/** One conversation of a bot, summarized from its queue actor. */
export const CorrespondentSummary = Type.Object({
  id: Type.String(),
  messages: Type.Integer({ minimum: 0 }),
  characters: Type.Integer({ minimum: 0 }),
  placeholders: Type.Integer({ minimum: 0 }),
  lastAcceptedAt: Nullable(Timestamp),
});
export type CorrespondentSummary = Static<typeof CorrespondentSummary>;

/** `GET /v1/bots/:id/correspondents` paging. */
export const CorrespondentQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Conversations per page' })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'The nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type CorrespondentQuery = Static<typeof CorrespondentQuery>;

/** `GET /v1/bots/:id/correspondents`: one page, most recently active first. */
export const CorrespondentList = Type.Object(
  { correspondents: Type.Array(CorrespondentSummary), nextCursor: Nullable(Type.String({ description: 'Pass as `after` for the next page; null on the last page' })) },
  { $id: 'CorrespondentList' },
);
export type CorrespondentList = Static<typeof CorrespondentList>;

/** One message of the live window as the queue actor holds it, its times as ISO 8601. */
export const QueueMessageView = Type.Object({
  id: Type.Integer({ description: 'Per-correspondent sequence number, increasing in arrival order' }),
  content: Type.String(),
  source: StringEnum(MESSAGE_SOURCES),
  mediaJobId: Nullable(Type.String({ description: 'Set while the message is a placeholder awaiting its media job' })),
  acceptedAt: Timestamp,
  size: Type.Integer({ minimum: 0 }),
  sender: Type.Object({ id: Type.String(), displayName: Nullable(Type.String()) }),
  providerMessageId: Nullable(Type.String()),
  group: Nullable(Type.String()),
  originatingAt: Nullable(Timestamp),
});
export type QueueMessageView = Static<typeof QueueMessageView>;

/** `GET /v1/bots/:id/correspondents/:cid/messages`: the live queue, oldest first. */
export const QueueMessageList = Type.Object({ messages: Type.Array(QueueMessageView) }, { $id: 'QueueMessageList' });
export type QueueMessageList = Static<typeof QueueMessageList>;

/** One persisted history row; eviction from the live queue never removes it. */
export const HistoryRow = Type.Object({
  seq: Type.Integer(),
  providerMessageId: Nullable(Type.String()),
  direction: StringEnum(['inbound', 'outbound'] as const),
  source: StringEnum(MESSAGE_SOURCES),
  sender: Type.String(),
  kind: Type.String({ description: 'text, or the media kind' }),
  content: Type.String(),
  status: StringEnum(['final', 'placeholder', 'failed', 'pending', 'sent'] as const satisfies readonly HistoryStatus[], {
    description: 'Inbound: final, or placeholder until its media is processed (failed with a note). Outbound: pending, then sent or failed.',
  }),
  mediaJobId: Nullable(Type.String()),
  senderName: Type.Optional(Nullable(Type.String())),
  group: Type.Optional(Nullable(Type.String())),
  originatingAt: Type.Optional(Nullable(Timestamp)),
  error: Type.Optional(Nullable(Type.String({ description: 'Why an outbound message failed for good' }))),
  receipt: Type.Optional(Nullable(Type.Object({
    status: StringEnum(['sent', 'delivered', 'read', 'failed'] as const),
    at: Timestamp,
    error: Type.Optional(Nullable(Type.String())),
  }, { description: 'How far a sent message got, where the provider reports it (Cloud API statuses)' }))),
  acceptedAt: Timestamp,
  finalizedAt: Nullable(Timestamp),
});
export type HistoryRow = Static<typeof HistoryRow>;

/** `GET /v1/bots/:id/correspondents/:cid/history`: oldest first; `beforeSeq` pages backwards. */
export const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    beforeSeq: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const HistoryList = Type.Object({ messages: Type.Array(HistoryRow) }, { $id: 'HistoryList' });
export type HistoryList = Static<typeof HistoryList>;
