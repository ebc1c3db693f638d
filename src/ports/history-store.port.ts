/**
 * Inbound: `final`, or `placeholder` until its media job finalizes it (`final`, or `failed` with a
 * note). Outbound: `pending` until the outbox sends it (`sent`) or gives up (`failed`).
 */
export type HistoryStatus = 'final' | 'placeholder' | 'failed' | 'pending' | 'sent';

/** One message in a conversation's permanent history. Eviction from a queue never touches it. */
export interface HistoryRecord {
  readonly botId: string;
  readonly correspondentId: string;
  /** The queue message id; increases in arrival order within a correspondent. */
  readonly seq: number;
  /** WhatsApp's message id for inbound messages; replays of the same id are stored once. */
  readonly providerMessageId: string | null;
  readonly direction: 'inbound' | 'outbound';
  readonly source: 'user' | 'bot' | 'owner' | 'system';
  readonly sender: string;
  /**
   * What the queue window shows of an inbound message besides its content; absent on outbound
   * rows and on rows stored before the window was rebuilt from history.
   */
  readonly senderName?: string | null;
  readonly originatingAt?: Date | null;
  readonly group?: string | null;
  readonly kind: string;
  readonly content: string;
  readonly status: HistoryStatus;
  /** Why an outbound message failed for good. */
  readonly error?: string | null;
  /** The outbox delivery of an outbound message. */
  readonly outboxId?: string | null;
  /** How far a sent message got, where the provider reports it (Cloud API statuses). */
  readonly receipt?: Receipt | null;
  readonly mediaJobId: string | null;
  readonly acceptedAt: Date;
  readonly finalizedAt: Date | null;
}

/** A provider's report on a sent message: `sent` < `delivered` < `read`; `failed` ends it. */
export interface Receipt {
  readonly status: 'sent' | 'delivered' | 'read' | 'failed';
  readonly at: Date;
  /** Why it failed, as the provider words it (Meta's code and title). */
  readonly error?: string | null;
}

export type OutboundOutcome = { readonly status: 'sent'; readonly providerMessageId: string } | { readonly status: 'failed'; readonly error: string };

export interface AppendResult {
  readonly inserted: number;
  /** Positions (in the appended list) of records whose provider message id is already in history: replays. */
  readonly duplicates: readonly number[];
  /**
   * Positions of records whose conversation seq another row already holds. Never a replay: the
   * writer's idea of the next seq was behind history (or an earlier write of its own landed
   * unacknowledged), and the row was not written.
   */
  readonly seqTaken: readonly number[];
}

/** Append-only conversation history, written on arrival. */
export interface HistoryStore {
  /** Inserts in order; replays are reported, not thrown. */
  append(records: readonly HistoryRecord[]): Promise<AppendResult>;
  /** Finalizes a placeholder row in place; `false` when no placeholder has that job id. */
  finalize(botId: string, mediaJobId: string, content: string, status: HistoryStatus, now: Date): Promise<boolean>;
  /** Turns a finalized row back into a placeholder (operator retry); `false` when none matched. */
  reopen(botId: string, mediaJobId: string, content: string): Promise<boolean>;
  /** Settles an outbound row: sent, with the provider's id for it, or failed; `false` when no outbound row has that seq. */
  settleOutbound(botId: string, correspondentId: string, seq: number, outcome: OutboundOutcome, now: Date): Promise<boolean>;
  /**
   * Records a provider's receipt on the outbound row it sent under `providerMessageId`, only when
   * it says more than the row's current one (late or repeated receipts change nothing); a
   * `failed` receipt also marks the row `failed` with its error. `false` when nothing changed.
   */
  recordReceipt(botId: string, correspondentId: string, providerMessageId: string, receipt: Receipt): Promise<boolean>;
  /** Rows of one conversation whose seq lies in one of the inclusive runs, oldest first. */
  listBySeq(botId: string, correspondentId: string, runs: readonly (readonly [number, number])[]): Promise<HistoryRecord[]>;
  /** Oldest first; `beforeSeq` pages backwards. */
  list(botId: string, correspondentId: string, options?: { limit?: number; beforeSeq?: number }): Promise<HistoryRecord[]>;
  /** The row of a provider message in one chat (provider ids are unique per chat, not per account). */
  findByProviderMessageId(botId: string, correspondentId: string, providerMessageId: string): Promise<HistoryRecord | null>;
  /** The outbound row of an outbox delivery, `null` when none was written. */
  findOutbound(botId: string, correspondentId: string, outboxId: string): Promise<HistoryRecord | null>;
  /** Placeholder rows accepted before `before`, oldest first (the janitor's stale check). */
  listPlaceholders(before: Date, limit: number): Promise<HistoryRecord[]>;
  /** Highest seq per correspondent of a bot, used to keep new ids above recovered ones. */
  maxSeq(botId: string, correspondentId: string): Promise<number>;
  /** Removes every row of a bot, all conversations; resolves with how many. */
  deleteByBot(botId: string): Promise<number>;
}
