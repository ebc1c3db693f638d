import type { ActorRecord } from '../ports/actor-snapshot-store.port.ts';
import type { Cluster } from '../ports/cluster.port.ts';
import type { Store } from '../ports/store.port.ts';
import type { ParleyRuntime } from '../runtime/parley-runtime.ts';
import type { LiveBot } from './control-plane-views.ts';
import type { BotOwnerView } from './dto/bot.dto.ts';
import type { InstanceList } from './dto/instance.dto.ts';

/** The parts of a stored bot actor's snapshot a view shows; the rest stays in the store. */
const REPORTED_FIELDS = ['context.attempt', 'context.retryAt', 'context.lastError', 'context.lastDisconnect'] as const;

export interface BotHostingDeps {
  /** Absent: a single instance, which hosts every bot it has loaded and knows no owners. */
  readonly cluster: Cluster | undefined;
  readonly store: Pick<Store, 'actors'>;
  readonly bots: Pick<ParleyRuntime['bots'], 'has' | 'state' | 'context'>;
}

/** What the views of some bots read about who hosts them and what their bot actors report. */
export interface HostingReader {
  /** The bot actor's report: live when this instance hosts the bot, else as its host last stored it; null when it has none. */
  report(botId: string): Promise<LiveBot | null>;
  owner(botId: string): Promise<BotOwnerView | null>;
}

/**
 * Where each bot runs, as the control plane shows it. A bot hosted here is read from its live
 * actor; one hosted elsewhere (or by nobody right now) from the snapshot its host last stored,
 * which is what that host's actor decided, at most one write behind.
 */
export function createBotHosting(deps: BotHostingDeps) {
  const { cluster } = deps;
  const hostedHere = (botId: string): boolean => deps.bots.has(botId) && (cluster?.hostsLocally(botId) ?? true);

  function liveReport(botId: string): LiveBot {
    const context = deps.bots.context(botId);
    return {
      state: deps.bots.state(botId), lastError: context.lastError,
      reconnect: { attempt: context.attempt, retryAt: context.retryAt, lastDisconnect: context.lastDisconnect },
    };
  }

  return {
    hostedHere,

    /**
     * Reads for `botIds`: the stored reports of the ones hosted elsewhere take one store read
     * (a single `get` for one bot, one listing of bot actors for more), made on first need.
     */
    reader(botIds: readonly string[]): HostingReader {
      const held = new Map((cluster?.held() ?? []).map((lease) => [lease.botId, lease]));
      let stored: Promise<ReadonlyMap<string, ActorRecord>> | undefined;
      const storedReports = (): Promise<ReadonlyMap<string, ActorRecord>> => {
        stored ??= readStored(deps.store, botIds.filter((id) => !hostedHere(id)));
        return stored;
      };
      return {
        async report(botId) {
          if (hostedHere(botId)) return liveReport(botId);
          return storedReport((await storedReports()).get(botId));
        },
        async owner(botId) {
          if (cluster === undefined) return null;
          const lease = cluster.hostsLocally(botId) ? held.get(botId) : undefined;
          if (lease !== undefined) return { instanceId: cluster.instanceId, epoch: lease.epoch, leaseUntil: lease.leaseUntil };
          const owner = await cluster.ownerOf(botId);
          return owner === null ? null : { instanceId: owner.instanceId, epoch: owner.epoch, leaseUntil: owner.leaseUntil };
        },
      };
    },

    /** The live instances, oldest first; none without a cluster. */
    async instances(): Promise<InstanceList> {
      if (cluster === undefined) return { instances: [] };
      const instances = await cluster.instances();
      return {
        instances: instances.map((i) => ({
          id: i.id, url: i.url, startedAt: i.startedAt, seenAt: i.seenAt, aliveUntil: i.aliveUntil, capacity: i.capacity, bots: [...i.bots].sort(), self: i.self,
        })),
      };
    },
  };
}

export type BotHosting = ReturnType<typeof createBotHosting>;

async function readStored(store: Pick<Store, 'actors'>, botIds: readonly string[]): Promise<ReadonlyMap<string, ActorRecord>> {
  const [only] = botIds;
  if (only === undefined) return new Map();
  if (botIds.length === 1) {
    const record = await store.actors.get(only);
    return new Map(record === null ? [] : [[only, record]]);
  }
  const wanted = new Set(botIds);
  const records = await store.actors.list({ kind: 'bot' }, { fields: REPORTED_FIELDS });
  return new Map(records.filter((r) => wanted.has(r.id)).map((r) => [r.id, r]));
}

/** A stored bot actor's report; fields an older snapshot lacks read as their defaults. */
export function storedReport(record: ActorRecord | undefined): LiveBot | null {
  if (record === undefined) return null;
  const context = contextOf(record.snapshot);
  const text = (key: string): string | null => {
    const value = context.get(key);
    return typeof value === 'string' ? value : null;
  };
  const number = (key: string): number | null => {
    const value = context.get(key);
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  };
  return {
    state: record.state,
    lastError: text('lastError'),
    reconnect: { attempt: Math.max(0, Math.trunc(number('attempt') ?? 0)), retryAt: number('retryAt'), lastDisconnect: text('lastDisconnect') },
  };
}

function contextOf(snapshot: unknown): ReadonlyMap<string, unknown> {
  if (typeof snapshot !== 'object' || snapshot === null || !('context' in snapshot)) return new Map();
  const { context } = snapshot;
  return typeof context === 'object' && context !== null ? new Map(Object.entries(context)) : new Map();
}
