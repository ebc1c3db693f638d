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
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface OutboxStore {
  enqueue(message: Pick<OutboxRecord, 'id' | 'botId' | 'to' | 'text'>, now: Date): Promise<OutboxRecord>;
  /** Atomically takes the oldest due pending message of a bot. */
  claimDue(botId: string, owner: string, now: Date): Promise<OutboxRecord | null>;
  markSent(id: string, attempt: number, now: Date): Promise<boolean>;
  /** Back to pending at `retryAt`, or failed for good when null. */
  markFailed(id: string, attempt: number, error: string, retryAt: Date | null, now: Date): Promise<boolean>;
  list(botId: string, options?: { states?: readonly OutboxState[]; limit?: number }): Promise<OutboxRecord[]>;
}
