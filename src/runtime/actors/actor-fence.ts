/** How an instance proves, write by write, that it still owns a bot (see `PersistedActorOptions.fence`). */
export interface ActorFence {
  /** Whether this instance may write the bot's actors now. */
  holds(botId: string): boolean;
  /** The epoch it holds the bot under; throws LEASE_LOST when it does not hold it. */
  epochOf(botId: string): number;
  /** A write found that a later owner fenced the bot's actors. */
  onFenced(botId: string, storedEpoch: number): void;
}
