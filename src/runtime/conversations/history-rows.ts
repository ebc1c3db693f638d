import { contentSize } from '../../domain/queue-message.ts';
import type { IncomingMessage, PlaceholderMessage, Sender } from '../../domain/queue-message.ts';
import type { HistoryMessage } from '../../domain/stored-window.ts';
import type { HistoryRecord } from '../../ports/history-store.port.ts';

/** An inbound message as ingestion sees it. */
export interface Arrival {
  readonly botId: string;
  readonly correspondentId: string;
  readonly providerMessageId: string | null;
  readonly sender: Sender;
  readonly group: string | null;
  readonly originatingAt: number | null;
}

/** History kind of a reaction: stored and in the window, told to no listener. */
export const REACTION_KIND = 'reaction';

/**
 * The history row of an accepted inbound message. It carries every field the queue window shows
 * besides the cut content, and `now` is the queue event's `now` too: a window rebuilt from the row
 * equals the window the queue decided.
 */
export function inboundRow(arrival: Arrival, seq: number, now: number, fields: Pick<HistoryRecord, 'kind' | 'content' | 'status' | 'mediaJobId'>): HistoryRecord {
  return {
    botId: arrival.botId,
    correspondentId: arrival.correspondentId,
    seq,
    providerMessageId: arrival.providerMessageId,
    direction: 'inbound',
    source: 'user',
    sender: arrival.sender.id,
    senderName: arrival.sender.displayName,
    originatingAt: arrival.originatingAt === null ? null : new Date(arrival.originatingAt),
    group: arrival.group,
    acceptedAt: new Date(now),
    // A text is final on arrival; a placeholder becomes final when its job finalizes it.
    finalizedAt: fields.status === 'final' ? new Date(now) : null,
    ...fields,
  };
}

/** The history row of a message the bot queued for sending: pending until the outbox settles it. */
export function outboundRow(botId: string, correspondentId: string, seq: number, text: string, now: number, outboxId: string | null = null): HistoryRecord {
  return {
    botId,
    correspondentId,
    seq,
    providerMessageId: null,
    direction: 'outbound',
    source: 'bot',
    sender: botId,
    senderName: null,
    originatingAt: null,
    group: null,
    kind: 'text',
    content: text,
    status: 'pending',
    mediaJobId: null,
    outboxId,
    acceptedAt: new Date(now),
    finalizedAt: null,
  };
}

/**
 * The history row of a message the account owner wrote from the phone: outbound (the account's
 * side of the conversation), already sent, keyed by its provider id so a replay is stored once.
 */
export function ownerRow(arrival: Arrival, seq: number, now: number, kind: string, content: string): HistoryRecord {
  return {
    ...inboundRow(arrival, seq, now, { kind, content, status: 'sent', mediaJobId: null }),
    direction: 'outbound',
    source: 'owner',
    finalizedAt: new Date(now),
  };
}

/** The bot's own message as the queue window takes it. */
export function outboundMessage(botId: string, text: string): IncomingMessage {
  return { content: text, sender: { id: botId, displayName: null }, source: 'bot', originatingAt: null, group: null, providerMessageId: null };
}

/** A row as the queue window sees it; rows stored before these fields existed read as unknown. */
export function historyMessage(row: HistoryRecord): HistoryMessage {
  return {
    id: row.seq,
    content: row.content,
    sender: { id: row.sender, displayName: row.senderName ?? null },
    source: row.source,
    acceptedAt: row.acceptedAt.getTime(),
    originatingAt: row.originatingAt?.getTime() ?? null,
    group: row.group ?? null,
    providerMessageId: row.providerMessageId,
  };
}

/** The placeholder a recovered or reopened row puts back in the window. */
export function placeholderFromRow(row: HistoryRecord, mediaJobId: string, content: string = row.content): PlaceholderMessage {
  return { ...historyMessage(row), content, size: contentSize(content), mediaJobId };
}
