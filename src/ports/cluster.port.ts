import type { InstanceRecord } from './ownership-store.port.ts';

/** Who hosts a bot right now, as the control plane and the HTTP layer see it. */
export interface BotOwner {
  /** The instance holding the bot's lease. */
  readonly instanceId: string;
  readonly epoch: number;
  readonly leaseUntil: Date;
  /** Where the owner answers REST calls; null when it announced none. */
  readonly url: string | null;
  /** Whether the owner is this instance. */
  readonly local: boolean;
}

/** A live instance and the bots it holds. */
export interface InstanceView extends InstanceRecord {
  readonly bots: readonly string[];
  /** Whether this is the instance answering. */
  readonly self: boolean;
}

/**
 * This instance's view of the cluster: which bots it hosts, who owns the others and which
 * instances are alive. A single instance is a cluster of one that owns every bot.
 */
export interface Cluster {
  /** This instance's id (`INSTANCE_ID`). */
  readonly instanceId: string;
  /** Whether this instance hosts the bot now (holds a live lease and has it loaded). Synchronous: asked on every request. */
  hostsLocally(botId: string): boolean;
  /** The bot's live owner; null when no live instance holds it (being taken over, or unplaced). */
  ownerOf(botId: string): Promise<BotOwner | null>;
  /** Live instances, oldest first, each with the bots it holds. */
  instances(): Promise<InstanceView[]>;
  /** The leases this instance holds now, by bot id (for metrics and /inspect). */
  held(): readonly HeldLease[];
}

/** One lease this instance holds. */
export interface HeldLease {
  readonly botId: string;
  readonly epoch: number;
  readonly leaseUntil: Date;
}
