/** Kinds of persisted actors. */
export type ActorKind = 'bot' | 'correspondent-queue' | 'media-job' | 'outbox' | 'conversation-reply';

/** An effect stored with the decision that asked for it, until the runtime acknowledges it. */
export interface StoredEffect {
  /** `<actor id>@<version>.<tag>#<index>`: the write that stored it and its place in it; the same on every run of it. */
  readonly id: string;
  readonly type: string;
  readonly params: unknown;
}

/**
 * One persisted actor: the machine's snapshot plus the fields the store queries on. `version` is
 * the compare-and-set counter (bumped by every write); `machineVersion` is the version of the
 * machine definition that produced the snapshot.
 */
export interface ActorRecord {
  readonly id: string;
  readonly kind: ActorKind;
  readonly botId: string;
  readonly version: number;
  readonly machineVersion: number;
  /** The machine's state value, flattened to a string (`connected`, `processing`, ...). */
  readonly state: string;
  readonly snapshot: unknown;
  /** Durable effects decided but not yet acknowledged: run again after a restart. */
  readonly effects: readonly StoredEffect[];
  readonly updatedAt: Date;
  /**
   * Whether a process holds the actor in memory. Only correspondent queues are marked: a restart
   * restores the resident ones (they may be behind history or owe effects) and loads the rest on
   * demand. Absent means not resident.
   */
  readonly resident?: boolean;
  /**
   * The highest ownership epoch that wrote or fenced the actor (I14); absent on actors no owner
   * fenced yet. A write carrying a lower epoch is refused.
   */
  readonly epoch?: number;
}

/** Where a page of queues ends: the last queue's latest acceptance time (epoch ms, null when empty) and id. */
export interface QueuePosition {
  readonly lastAcceptedAt: number | null;
  readonly id: string;
}

export interface ActorWrite {
  readonly machineVersion: number;
  readonly state: string;
  readonly snapshot: unknown;
  /** Every effect still unacknowledged after this write (the earlier ones left plus the new ones); none when absent. */
  readonly effects?: readonly StoredEffect[];
  /**
   * The writer's ownership epoch of the actor's bot: the write is refused (as a lost race) when the
   * stored actor carries a higher one, and raises the stored one otherwise. Unfenced when absent.
   */
  readonly epoch?: number;
}

/** Snapshot persistence with optimistic concurrency. */
export interface ActorSnapshotStore {
  get(id: string): Promise<ActorRecord | null>;
  /** Inserts version 1; a second insert of the same id fails with STORE_DUPLICATE_KEY. */
  insert(record: { id: string; kind: ActorKind; botId: string } & ActorWrite): Promise<ActorRecord>;
  /**
   * Writes `next` only if the stored version still equals `expectedVersion`. Returns the new
   * record, or `null` when another writer won: the caller re-reads and re-decides.
   */
  compareAndSet(id: string, expectedVersion: number, next: ActorWrite): Promise<ActorRecord | null>;
  /**
   * Records of one kind, ordered by id. `fields` names snapshot paths (`context.window.totalChars`)
   * to read instead of the whole snapshot, so a summary need not carry every message body.
   */
  list(
    filter: { kind: ActorKind; botId?: string; states?: readonly string[]; resident?: true; /** Only actors with unacknowledged effects. */ withEffects?: true },
    options?: { fields?: readonly string[] },
  ): Promise<ActorRecord[]>;
  /**
   * Marks the actor held in memory (before it first writes after a load) or no longer held (after
   * its last write before unloading). Not a compare-and-set: residency is not part of the snapshot.
   */
  markResident(id: string, resident: boolean): Promise<void>;
  /**
   * One page of a bot's correspondent queues, most recently active first (by the stored window's
   * `lastAcceptedAt`, then id; queues with no message last), after `after` when given.
   */
  pageQueues(botId: string, page: { after?: QueuePosition; limit: number }, options?: { fields?: readonly string[] }): Promise<ActorRecord[]>;
  delete(id: string): Promise<boolean>;
  /**
   * Raises the epoch of every actor of the bot to `epoch` (a new owner took the bot): from then on
   * writes of an earlier owner are refused. Resolves with how many actors were raised.
   */
  fenceBot(botId: string, epoch: number): Promise<number>;
  /** Removes every actor of a bot (its bot actor and its queues); resolves with how many. */
  deleteByBot(botId: string): Promise<number>;
}
