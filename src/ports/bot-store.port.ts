/** A bot's persisted definition; its live state belongs to the bot actor. */
export interface BotRecord {
  readonly id: string;
  readonly provider: string;
  /** Provider-, queue-, AI- and media-specific settings, validated by the layer that owns them. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Whether an operator wants it running; bots that were running restart with Parley. */
  readonly desiredState: 'running' | 'stopped';
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface BotStore {
  /** Fails with STORE_DUPLICATE_KEY when the id exists. */
  create(bot: Omit<BotRecord, 'createdAt' | 'updatedAt'>, now: Date): Promise<BotRecord>;
  get(id: string): Promise<BotRecord | null>;
  list(): Promise<BotRecord[]>;
  update(id: string, patch: Partial<Pick<BotRecord, 'settings' | 'desiredState'>>, now: Date): Promise<BotRecord | null>;
  delete(id: string): Promise<boolean>;
}
