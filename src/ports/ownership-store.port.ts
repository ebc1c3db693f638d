/** Who hosts a bot: one instance at a time, for as long as it keeps renewing. */
export interface BotLease {
  readonly botId: string;
  readonly owner: string;
  /** Increases every time the bot changes hands; fences the owner's writes. */
  readonly epoch: number;
  readonly leaseUntil: Date;
}

/**
 * Per-bot ownership leases (I14, race (n)). A lease is live while `now < leaseUntil`; only a live
 * lease is held. Every call takes `now` from its caller, so one clock decides and tests control it.
 */
export interface OwnershipStore {
  /**
   * Takes the bot when nobody holds it, its lease expired, or `owner` already holds it (then
   * renews, same epoch). A new owner gets epoch+1; the same owner taking its own lapsed or
   * released lease back keeps the epoch, since nobody else wrote in between. Atomic: of
   * concurrent callers exactly one wins; `null` for the others.
   */
  acquire(botId: string, owner: string, now: Date, leaseMs: number): Promise<BotLease | null>;
  /**
   * Extends the lease while `owner` still holds it at `epoch`; false when it was taken over,
   * released or lapsed (the caller must stop the bot, and may `acquire` it again).
   */
  renew(botId: string, owner: string, epoch: number, now: Date, leaseMs: number): Promise<boolean>;
  /**
   * Gives the bot up at once (graceful stop) so another instance takes it without waiting; false
   * when not held. Keeps the epoch so the next owner gets epoch+1.
   */
  release(botId: string, owner: string, epoch: number): Promise<boolean>;
  /** The current holder, whether or not its lease expired; null when never held. */
  get(botId: string): Promise<BotLease | null>;
  /** Every lease, live or not, by bot id. */
  list(): Promise<BotLease[]>;
  /** Whether `owner` still holds the bot at `epoch` right now (the fencing check a write can make). */
  holds(botId: string, owner: string, epoch: number, now: Date): Promise<boolean>;
  /** Forgets a deleted bot's lease. */
  delete(botId: string): Promise<void>;
}

/** A live instance as it announces itself. */
export interface InstanceRecord {
  readonly id: string;
  readonly startedAt: Date;
  readonly seenAt: Date;
  readonly aliveUntil: Date;
  readonly url: string | null;
  readonly capacity: number | null;
}

export interface InstanceRegistry {
  /**
   * Announces (or keeps announcing) an instance until `now + ttlMs`. `incarnation` names this
   * process life; resolves with the one the previous heartbeat of this id stored (null for the
   * first), so a process sharing its id with another live one finds out.
   */
  heartbeat(instance: { id: string; url: string | null; capacity: number | null; startedAt: Date; incarnation: string }, now: Date, ttlMs: number): Promise<string | null>;
  /** Instances alive at `now`, oldest first. */
  alive(now: Date): Promise<InstanceRecord[]>;
  /** An instance stopping gracefully leaves at once. */
  leave(id: string): Promise<void>;
}
