export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed';

/** One outgoing message, retried until sent or given up. */
export interface OutboxRecord {
  readonly id: string;
  readonly botId: string;
  readonly to: string;
  readonly text: string;
  readonly state: OutboxState;
  readonly attempt: number;
  readonly nextAttemptAt: Date;
  readonly owner: string | null;
  /** While `sending`: when the claim lapses and any sender may claim the message again. */
  readonly leaseUntil: Date | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface OutboxStore {
  enqueue(message: Pick<OutboxRecord, 'id' | 'botId' | 'to' | 'text'>, now: Date): Promise<OutboxRecord>;
  /**
   * Atomically takes the oldest due message of a bot: a pending one whose `nextAttemptAt` has come,
   * or a `sending` one whose lease lapsed (its sender died). The claim sets `sending`, the owner and
   * `leaseUntil = now + leaseMs`, and counts an attempt.
   */
  claimDue(botId: string, owner: string, now: Date, leaseMs: number): Promise<OutboxRecord | null>;
  /**
   * Both reports match `{id, attempt, state: 'sending'}`: once a lapsed claim was taken again, the
   * old sender's report matches nothing and `false` says it was discarded.
   */
  markSent(id: string, attempt: number, now: Date): Promise<boolean>;
  /** Back to pending at `retryAt`, or failed for good when null. */
  markFailed(id: string, attempt: number, error: string, retryAt: Date | null, now: Date): Promise<boolean>;
  list(botId: string, options?: { states?: readonly OutboxState[]; limit?: number }): Promise<OutboxRecord[]>;
  /** Removes every message of a bot, whatever its state; resolves with how many. */
  deleteByBot(botId: string): Promise<number>;
}
