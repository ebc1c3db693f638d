import { randomUUID } from 'node:crypto';
import { botsToHandOver, botsToTake, placeBots } from '../../domain/bot-placement.ts';
import { ParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { BotOwner, HeldLease, InstanceView } from '../../ports/cluster.port.ts';
import type { BotLease, InstanceRegistry, OwnershipStore } from '../../ports/ownership-store.port.ts';
import { concurrently } from '../actors/concurrently.ts';
import { retryDelay, sleep } from '../actors/retry.ts';
import type { RetryPolicy } from '../actors/retry.ts';

/** How leases are held and bots spread (OWNERSHIP_* and MAX_BOTS_PER_INSTANCE). */
export interface OwnershipSettings {
  /** How long a lease lives unrenewed; an instance silent this long loses its bots. */
  readonly leaseMs: number;
  /** How often leases are renewed and placement is looked at again. */
  readonly renewMs: number;
  /** How long a lapsed lease waits before another instance takes the bot (room for a late renewal). */
  readonly takeoverDelayMs: number;
  /** Most bots this instance hosts; null for no limit. */
  readonly capacity: number | null;
  /** Where other instances reach this one (forwarded calls); null when it announces none. */
  readonly url: string | null;
}

export const DEFAULT_OWNERSHIP: OwnershipSettings = { leaseMs: 15_000, renewMs: 5_000, takeoverDelayMs: 2_000, capacity: null, url: null };

export type OwnershipChange = 'acquired' | 'lost' | 'released';

export interface OwnershipDeps {
  readonly ownership: OwnershipStore;
  readonly instances: InstanceRegistry;
  /** Ids of every bot in the store. */
  readonly botIds: () => Promise<readonly string[]>;
  readonly instanceId: string;
  readonly settings: OwnershipSettings;
  /** Wall-clock time of leases as stored; real time, never a test's simulated clock. */
  readonly clock: () => number;
  readonly logger: Logger;
  /** Hosts a bot whose lease was just acquired at `epoch`; a failure gives the lease back. */
  readonly gain: (botId: string, epoch: number) => Promise<void>;
  /** Lets go of a bot: `handover` writes everything first (the lease is still held), `lost` drops it without writing. */
  readonly drop: (botId: string, how: 'handover' | 'lost') => Promise<void>;
  readonly onChange?: (change: OwnershipChange, botId: string) => void;
  /**
   * Another live process announces itself under this instance's id: both would host the same
   * bots under one epoch, which nothing could fence. The composition root stops the process.
   */
  readonly onIdCollision?: () => void;
}

type Phase = 'gaining' | 'hosted' | 'handing-over' | 'dropping';

interface Held {
  readonly epoch: number;
  /** When the lease runs out, as stored. */
  leaseUntil: number;
  /**
   * When it runs out by this process's monotonic clock, measured from before the write that set
   * it: what the fence checks, immune to wall-clock steps.
   */
  deadline: number;
  phase: Phase;
}

/** Bots handed over per round, so a joining instance is filled gradually, not in one storm of reconnects. */
const HANDOVERS_PER_ROUND = 8;
/** Tries of a release before the lease is left to lapse. */
const RELEASE_ATTEMPTS = 4;
const RELEASE_RETRY: RetryPolicy = { attempts: RELEASE_ATTEMPTS, baseMs: 50, maxMs: 500 };
/** Bots taken at once per round. */
const GAIN_CONCURRENCY = 16;

/**
 * This instance's share of the bots (I14, race (n)). Every round it announces itself, renews the
 * leases it holds (a lease it can no longer renew is lost: the bot stops here at once, without
 * writing), then computes the placement every instance computes alike and takes the bots placed on
 * it whose lease is free or lapsed past the takeover delay, handing over the ones it holds beyond
 * its share. Every write of a bot's actors and history is fenced by `epochOf`: it passes only
 * while the local lease has not run out, so an instance that was paused past its lease writes
 * nothing before it learns it lost the bot.
 */
export function createOwnership(deps: OwnershipDeps) {
  const { settings, instanceId } = deps;
  const log = deps.logger.child({ scope: 'ownership' });
  const held = new Map<string, Held>();
  const startedAt = new Date(deps.clock());
  // Writes stop a little before the lease runs out: a write under way when it lapses still lands in time.
  const margin = Math.min(1_000, Math.floor(settings.leaseMs / 10));
  let url = settings.url;
  const incarnation = randomUUID();
  let heartbeats = 0;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  // Set while the process shuts down: leases are still renewed, no bot is taken or handed over.
  let quiet = false;
  const suspected = new Set<string>();

  const writable = (entry: Held | undefined): entry is Held =>
    entry !== undefined && entry.phase !== 'dropping' && performance.now() < entry.deadline - margin;

  async function lose(botId: string, why: string): Promise<void> {
    const entry = held.get(botId);
    if (entry === undefined || entry.phase === 'dropping') return;
    entry.phase = 'dropping';
    log.warn({ botId, epoch: entry.epoch, why }, 'lease lost: the bot stops here');
    try {
      await deps.drop(botId, 'lost');
    } catch (err) {
      log.error({ err, botId }, 'a lost bot did not stop cleanly');
    } finally {
      held.delete(botId);
      deps.onChange?.('lost', botId);
    }
  }

  const extend = (entry: Held, now: number, monotonic: number): void => {
    entry.leaseUntil = now + settings.leaseMs;
    entry.deadline = monotonic + settings.leaseMs;
  };

  /**
   * Gives a lease up, trying a few times: a bot this instance no longer hosts runs nowhere until
   * its lease is released, or else lapses (lease plus takeover delay).
   */
  async function release(botId: string, epoch: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.ownership.release(botId, instanceId, epoch);
        return;
      } catch (err) {
        if (attempt >= RELEASE_ATTEMPTS) return void log.warn({ err, botId }, 'lease not released; it lapses instead');
        await sleep(retryDelay(RELEASE_RETRY, attempt));
      }
    }
  }

  async function renew(botId: string, entry: Held): Promise<void> {
    const now = deps.clock();
    const monotonic = performance.now();
    try {
      if (await deps.ownership.renew(botId, instanceId, entry.epoch, new Date(now), settings.leaseMs)) extend(entry, now, monotonic);
      else await lose(botId, 'taken over, released or lapsed');
    } catch (err) {
      // Not renewed, not refused either: the bot stays while the lease lasts, and then goes.
      if (performance.now() >= entry.deadline) await lose(botId, 'could not be renewed before it ran out');
      else log.warn({ err, botId }, 'lease renewal failed; tried again next round');
    }
  }

  async function gain(lease: BotLease, monotonic: number): Promise<void> {
    const entry: Held = { epoch: lease.epoch, leaseUntil: lease.leaseUntil.getTime(), deadline: monotonic + settings.leaseMs, phase: 'gaining' };
    held.set(lease.botId, entry);
    deps.onChange?.('acquired', lease.botId);
    try {
      await deps.gain(lease.botId, lease.epoch);
      if (entry.phase === 'gaining') entry.phase = 'hosted';
      log.info({ botId: lease.botId, epoch: lease.epoch }, 'bot taken');
    } catch (err) {
      log.error({ err, botId: lease.botId }, 'a bot could not be taken; its lease is given back');
      await giveUp(lease.botId, entry, 'lost');
    }
  }

  async function acquire(botId: string): Promise<boolean> {
    if (held.has(botId)) return true;
    const monotonic = performance.now();
    const lease = await deps.ownership.acquire(botId, instanceId, new Date(deps.clock()), settings.leaseMs);
    if (lease === null) return false;
    await gain(lease, monotonic);
    return held.get(botId)?.phase === 'hosted';
  }

  /** Stops hosting the bot (`handover` writes everything first) and releases its lease. */
  async function giveUp(botId: string, entry: Held, how: 'handover' | 'lost'): Promise<void> {
    entry.phase = how === 'handover' ? 'handing-over' : 'dropping';
    try {
      await deps.drop(botId, how);
    } catch (err) {
      log.error({ err, botId }, 'a bot did not stop cleanly before its lease was released');
    }
    entry.phase = 'dropping';
    held.delete(botId);
    await release(botId, entry.epoch);
    deps.onChange?.('released', botId);
  }

  async function place(): Promise<void> {
    const now = deps.clock();
    const [bots, alive, leases] = await Promise.all([deps.botIds(), deps.instances.alive(new Date(now)), deps.ownership.list()]);
    // A lease lapsed for less than the takeover delay still counts as held: its owner may be renewing late.
    const live = (lease: BotLease) => lease.leaseUntil.getTime() + settings.takeoverDelayMs > now;
    const leaseOf = new Map(leases.map((l) => [l.botId, l]));
    const placement = placeBots({
      bots,
      instances: alive.map((i) => ({ id: i.id, capacity: i.capacity })),
      leases: leases.map((l) => ({ botId: l.botId, owner: l.owner, live: live(l) })),
    });
    const mine = new Set(held.keys());
    for (const botId of botsToHandOver(instanceId, placement, mine).slice(0, HANDOVERS_PER_ROUND)) {
      const entry = held.get(botId);
      if (entry?.phase !== 'hosted' || stopped) continue;
      log.info({ botId, to: placement.get(botId) }, 'bot handed over to even out the load');
      await giveUp(botId, entry, 'handover');
    }
    const placedHere = botsToTake(instanceId, placement, mine);
    const free = placedHere.filter((botId) => {
      const lease = leaseOf.get(botId);
      return lease === undefined || lease.owner === instanceId || !live(lease);
    });
    // Bots placed here that their holders are about to hand over: looked at again soon, not a whole round later.
    if (free.length < placedHere.length && !stopped) setTimeout(() => void kick(), Math.min(300, settings.renewMs)).unref();
    await concurrently(free, GAIN_CONCURRENCY, async (botId) => {
      if (!stopped) await acquire(botId).catch((err: unknown) => log.warn({ err, botId }, 'bot could not be taken; tried again next round'));
    });
  }

  async function runRound(): Promise<void> {
    const now = deps.clock();
    const before = await deps.instances.heartbeat({ id: instanceId, url, capacity: settings.capacity, startedAt, incarnation }, new Date(now), settings.leaseMs);
    // The first heartbeat may find this id's previous life; any later one finds only our own.
    if (heartbeats++ > 0 && before !== incarnation) {
      log.error({ instanceId }, `another live process uses INSTANCE_ID=${instanceId}: each instance needs its own id`);
      deps.onIdCollision?.();
      return;
    }
    await concurrently([...held], 16, ([botId, entry]) => (entry.phase === 'dropping' ? Promise.resolve() : renew(botId, entry)));
    if (!stopped && !quiet) await place();
  }

  /** One round now, or right after the one under way. */
  function kick(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (round !== null) {
      again = true;
      return round;
    }
    round = runRound()
      .catch((err: unknown) => log.warn({ err }, 'ownership round failed; tried again next round'))
      .finally(() => {
        round = null;
        if (again && !stopped) {
          again = false;
          void kick();
        }
      });
    return round;
  }

  /** A write was refused or found a later owner: the store decides whether the bot is still ours. */
  function suspect(botId: string): void {
    if (suspected.has(botId) || !held.has(botId)) return;
    suspected.add(botId);
    void (async () => {
      const entry = held.get(botId);
      if (entry === undefined) return;
      const now = deps.clock();
      const monotonic = performance.now();
      const ours = await deps.ownership.renew(botId, instanceId, entry.epoch, new Date(now), settings.leaseMs).catch(() => false);
      if (ours) extend(entry, now, monotonic);
      else await lose(botId, 'a write was refused');
    })().finally(() => suspected.delete(botId));
  }

  return {
    instanceId,
    /** Announces this instance and takes its first bots, then keeps doing so every `renewMs`. */
    async start(): Promise<void> {
      stopped = false;
      await kick();
      timer = setInterval(() => void kick(), settings.renewMs);
      timer.unref();
    },
    kick,
    /** Where other instances reach this one, announced from the next heartbeat on. */
    announceAt(at: string): void {
      url = at;
    },
    /**
     * Takes a bot just created here, when this instance has room: the caller can start it at once.
     * Otherwise it waits for the instance placement gives it to.
     */
    async claim(botId: string): Promise<boolean> {
      if (settings.capacity !== null && held.size >= settings.capacity) return false;
      return acquire(botId);
    },
    /** Whether this instance hosts the bot now and may write it. */
    hosts: (botId: string): boolean => held.get(botId)?.phase === 'hosted',
    /** The fence of every write of the bot's actors and history (see the module comment). */
    fence: {
      holds: (botId: string): boolean => writable(held.get(botId)),
      epochOf(botId: string): number {
        const entry = held.get(botId);
        if (writable(entry)) return entry.epoch;
        if (entry !== undefined) suspect(botId);
        throw ParleyError.of('LEASE_LOST', { id: botId });
      },
      onFenced: (botId: string, storedEpoch: number): void => {
        log.warn({ botId, storedEpoch, epoch: held.get(botId)?.epoch }, 'a later owner fenced the bot');
        void lose(botId, 'a later owner fenced its actors');
      },
    },
    /** Forgets a deleted bot's lease. */
    async forget(botId: string): Promise<void> {
      held.delete(botId);
      await deps.ownership.delete(botId);
    },
    held: (): HeldLease[] => [...held].map(([botId, e]) => ({ botId, epoch: e.epoch, leaseUntil: new Date(e.leaseUntil) })),
    async ownerOf(botId: string): Promise<BotOwner | null> {
      const now = deps.clock();
      const lease = await deps.ownership.get(botId);
      if (lease === null || lease.leaseUntil.getTime() <= now) return null;
      const instance = (await deps.instances.alive(new Date(now))).find((i) => i.id === lease.owner);
      if (instance === undefined) return null;
      return { instanceId: lease.owner, epoch: lease.epoch, leaseUntil: lease.leaseUntil, url: instance.url, local: lease.owner === instanceId };
    },
    async instances(): Promise<InstanceView[]> {
      const now = deps.clock();
      const [alive, leases] = await Promise.all([deps.instances.alive(new Date(now)), deps.ownership.list()]);
      return alive.map((i) => ({
        ...i,
        bots: leases.filter((l) => l.owner === i.id && l.leaseUntil.getTime() > now).map((l) => l.botId),
        self: i.id === instanceId,
      }));
    },
    /**
     * Hands every bot over at once (graceful stop): called once the runtime closed its sessions and
     * wrote everything, it releases each lease so other instances take the bots without waiting
     * for expiry, then leaves the registry.
     */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await round;
      await concurrently([...held], 16, async ([botId, entry]) => {
        entry.phase = 'dropping';
        held.delete(botId);
        await release(botId, entry.epoch);
        deps.onChange?.('released', botId);
      });
      await deps.instances.leave(instanceId).catch((err: unknown) => log.warn({ err }, 'instance not removed from the registry; it lapses instead'));
    },
    /** Takes and hands over no more bots (the process is shutting down); leases are still renewed. */
    quiesce(): void {
      quiet = true;
    },
    /** Stops renewing without writing anything (the process is going away as if killed). */
    halt(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export type Ownership = ReturnType<typeof createOwnership>;
