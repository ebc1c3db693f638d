/**
 * One provider session of a simulator bot: from `start()` to `stop()` on one instance. A session
 * whose instance died keeps `endedAt: null`.
 */
export interface SimulatorSession {
  readonly sessionId: string;
  readonly botId: string;
  /** The Parley instance that ran the session. */
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly connectedAt: Date | null;
  readonly endedAt: Date | null;
  /** `stopped`, `replaced` (started again without a stop) or `unrecorded` (its start never became durable). */
  readonly endReason: string | null;
}

/** What a session's start writes. */
export type SimulatorSessionStart = Pick<SimulatorSession, 'sessionId' | 'botId' | 'instanceId' | 'startedAt'>;

/** One text a bot sent through the simulator. */
export interface SimulatorSent {
  readonly botId: string;
  readonly to: string;
  readonly text: string;
  readonly providerMessageId: string;
  /** Epoch ms. */
  readonly sentAt: number;
}

/** How much of a bot's sent messages is kept: the newest, within both bounds, and never fewer than one. */
export interface SimulatorOutboundCaps {
  readonly maxMessages: number;
  readonly maxChars: number;
}

/**
 * The simulator's fake WhatsApp, shared by every Parley instance as the real one is: which
 * sessions each bot ran, where, and what it sent. Ordering is by time, ties in the order the
 * records were made.
 */
export interface SimulatorWorld {
  /**
   * Records a session that has begun, then drops the bot's oldest sessions beyond `keep`.
   * Idempotent by `sessionId`: a retry after a lost reply records it once.
   */
  sessionStarted(session: SimulatorSessionStart, keep: number): Promise<void>;
  /** Marks a session connected; nothing happens to an unknown one. */
  sessionConnected(sessionId: string, at: Date): Promise<void>;
  /** Marks a session ended; the first end stands, and nothing happens to an unknown session. */
  sessionEnded(sessionId: string, at: Date, reason: string): Promise<void>;
  /** The bot's sessions, newest last. */
  sessions(botId: string): Promise<SimulatorSession[]>;
  /**
   * Records a sent message, then drops the bot's oldest beyond `caps`. Idempotent by
   * `(botId, providerMessageId)`.
   */
  recordOutbound(message: SimulatorSent, caps: SimulatorOutboundCaps): Promise<void>;
  /** What the bot sent, oldest first. */
  outbound(botId: string): Promise<SimulatorSent[]>;
  /** Deletes a deleted bot's sessions and sent messages. */
  forget(botId: string): Promise<void>;
}
