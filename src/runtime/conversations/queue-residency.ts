import { ParleyError } from '../../domain/errors.ts';
import type { QueueLimits } from '../../domain/queue-message.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ActorRecord, ActorSnapshotStore } from '../../ports/actor-snapshot-store.port.ts';
import { concurrently } from '../actors/concurrently.ts';
import type { correspondentQueueMachine, CorrespondentQueueEffects } from '../../../machines/correspondent-queue.machine.ts';
import { createPersistedActor, restorePersistedActor } from '../actors/persisted-actor.ts';
import type { PersistedActorOptions } from '../actors/persisted-actor.ts';
import type { Lanes } from '../actors/lanes.ts';
import { queueActorId } from './queue-actor.ts';
import type { QueueActor } from './queue-actor.ts';

/** Queues restored at once after a restart: enough to keep the store busy, few enough to share it. */
const RESTORE_CONCURRENCY = 16;

export interface QueueResidencyDeps {
  readonly actors: ActorSnapshotStore;
  readonly options: PersistedActorOptions<typeof correspondentQueueMachine, CorrespondentQueueEffects>;
  readonly lanes: Lanes;
  /** Rows written after the stored snapshot re-enter the window; safe to repeat. */
  readonly catchUp: (q: QueueActor) => Promise<void>;
  readonly limitsFor: (botId: string) => QueueLimits;
  readonly clock: () => number;
  readonly log: Logger;
  /** A queue untouched this long is written, marked not resident and dropped from memory. */
  readonly idleMs: number;
  /** Beyond this many queues in memory the least recently used leave before their idle time. */
  readonly maxResident: number;
  /** Whether this instance hosts the bot; every bot when absent. */
  readonly hosts?: (botId: string) => boolean;
}

/**
 * Which correspondent queues this process holds in memory. A queue is loaded on first use and
 * marked resident in the store before it can write, so a restart needs to restore only the
 * resident ones: a queue that was unloaded had written everything and owed nothing. Memory then
 * follows the conversations that are active, not every conversation the bots ever had.
 */
export function queueResidency(deps: QueueResidencyDeps) {
  const actors = new Map<string, QueueActor>();
  const lastUsed = new Map<string, number>();
  const loading = new Map<string, Promise<QueueActor>>();
  // Bots deleted in this process: a late finalize must not create a queue the deletion just removed.
  const deleted = new Set<string>();

  async function adopt(actor: QueueActor): Promise<QueueActor> {
    await deps.catchUp(actor);
    // Limits changed while the queue was not in memory apply now.
    const limits = deps.limitsFor(actor.botId);
    if (!sameLimits(actor.getSnapshot().context.limits, limits)) await actor.send({ type: 'limits.changed', limits, now: deps.clock() });
    actors.set(actor.id, actor);
    lastUsed.set(actor.id, deps.clock());
    if (actors.size > deps.maxResident) void makeRoom();
    return actor;
  }

  // `lastUsed` keeps insertion order and every use re-inserts, so its head is the least recently used.
  let makingRoom = false;
  async function makeRoom(): Promise<void> {
    if (makingRoom) return;
    makingRoom = true;
    try {
      for (const [id, usedAt] of [...lastUsed]) {
        if (actors.size <= deps.maxResident) break;
        if (deps.lanes.busy(id)) continue;
        await deps.lanes.run(id, () => unload(id, usedAt)).catch((err: unknown) => deps.log.warn({ err }, 'a queue could not leave memory; it stays'));
      }
    } finally {
      makingRoom = false;
    }
  }

  async function load(botId: string, correspondentId: string, id: string): Promise<QueueActor> {
    const record = await deps.actors.get(id);
    if (record === null) {
      const created = await createPersistedActor(deps.options, { id, kind: 'correspondent-queue', botId }, { botId, correspondentId, limits: deps.limitsFor(botId) });
      await deps.actors.markResident(id, true);
      return adopt(created);
    }
    return adoptRecord(record);
  }

  async function adoptRecord(record: ActorRecord): Promise<QueueActor> {
    if (record.resident !== true) await deps.actors.markResident(record.id, true);
    return adopt(await restorePersistedActor(deps.options, record));
  }

  /** Drops the queue from memory once everything it decided is written and acknowledged. */
  async function unload(id: string, idleSince: number): Promise<boolean> {
    const actor = actors.get(id);
    if (actor === undefined) return false;
    await actor.flush();
    // Used again while it flushed, or still owing effects that keep failing: it stays.
    if (lastUsed.get(id) !== idleSince || actor.unacknowledgedEffects() > 0) return false;
    await actor.stop();
    actors.delete(id);
    lastUsed.delete(id);
    await deps.actors.markResident(id, false);
    return true;
  }

  return {
    /** The queue of one conversation, loaded (or created) when it is not in memory. */
    get(botId: string, correspondentId: string): Promise<QueueActor> {
      if (deleted.has(botId)) return Promise.reject(new ParleyError('NOT_FOUND', `Bot ${botId} was deleted`));
      if (deps.hosts?.(botId) === false) return Promise.reject(ParleyError.of('LEASE_LOST', { id: botId }));
      const id = queueActorId(botId, correspondentId);
      const live = actors.get(id);
      if (live !== undefined) {
        lastUsed.delete(id);
        lastUsed.set(id, deps.clock());
        return Promise.resolve(live);
      }
      let pending = loading.get(id);
      if (pending === undefined) {
        pending = load(botId, correspondentId, id).finally(() => loading.delete(id));
        loading.set(id, pending);
      }
      return pending;
    },

    loaded: (): QueueActor[] => [...actors.values()],

    /**
     * Restores the queues that were resident when their last host let go of them (a process that
     * ended, or an instance that lost the bot), each caught up with history; of one bot when given.
     */
    async restoreResident(botId?: string): Promise<number> {
      const records = await deps.actors.list({ kind: 'correspondent-queue', resident: true, ...(botId === undefined ? {} : { botId }) });
      // Loaded as any use would load them, so a finalize or a message meanwhile shares the load.
      await concurrently(records, RESTORE_CONCURRENCY, async (record) => {
        if (actors.has(record.id)) return;
        const loaded = loading.get(record.id);
        if (loaded !== undefined) return loaded;
        const pending = adoptRecord(record).finally(() => loading.delete(record.id));
        loading.set(record.id, pending);
        return pending;
      });
      return records.length;
    },

    /** Unloads the queues untouched for `idleMs`; resolves with how many left memory. */
    async unloadIdle(): Promise<number> {
      const cutoff = deps.clock() - deps.idleMs;
      let unloaded = 0;
      for (const [id, usedAt] of [...lastUsed]) {
        if (usedAt > cutoff || deps.lanes.busy(id)) continue;
        const done = await deps.lanes.run(id, () => unload(id, usedAt)).catch((err: unknown) => {
          deps.log.warn({ err }, 'an idle queue could not be unloaded; it stays in memory');
          return false;
        });
        if (done) unloaded += 1;
      }
      if (unloaded > 0) deps.log.debug({ unloaded, resident: actors.size }, 'idle queues unloaded');
      return unloaded;
    },

    halt(): void {
      for (const actor of actors.values()) actor.halt();
    },

    async flush(): Promise<void> {
      await Promise.all([...actors.values()].map((a) => a.flush()));
    },

    /** Whether the bot's queues are refused (it is being deleted). */
    refuses: (botId: string): boolean => deleted.has(botId),

    /** No queue of the bot is loaded or created until `admitBot` (it is being deleted). */
    refuseBot(botId: string): void {
      deleted.add(botId);
    },

    /** Unloads every queue of a refused bot, without writing. */
    async dropBot(botId: string): Promise<number> {
      const prefix = queueActorId(botId, '');
      await Promise.all([...loading].filter(([key]) => key.startsWith(prefix)).map(([, load]) => load.catch(() => undefined)));
      const mine = [...actors.values()].filter((a) => a.botId === botId);
      for (const actor of mine) {
        actors.delete(actor.id);
        lastUsed.delete(actor.id);
        await actor.stop().catch((err: unknown) => deps.log.warn({ err, botId }, 'a queue of a deleted bot did not stop cleanly'));
      }
      return mine.length;
    },

    admitBot(botId: string): void {
      deleted.delete(botId);
    },

    /**
     * Lets go of every queue of a bot handed to another instance: each writes what it decided and
     * leaves memory. One still owing effects stays marked resident, so the next host restores it
     * and runs them.
     */
    async releaseBot(botId: string): Promise<number> {
      const prefix = queueActorId(botId, '');
      await Promise.all([...loading].filter(([key]) => key.startsWith(prefix)).map(([, load]) => load.catch(() => undefined)));
      const mine = [...actors.values()].filter((a) => a.botId === botId);
      await Promise.all(mine.map(async (actor) => {
        actors.delete(actor.id);
        lastUsed.delete(actor.id);
        await actor.stop();
        if (actor.unacknowledgedEffects() === 0) await deps.actors.markResident(actor.id, false);
      }));
      return mine.length;
    },

    /** Forgets every queue of a bot this instance lost, without writing: the new host has them. */
    haltBot(botId: string): number {
      const mine = [...actors.values()].filter((a) => a.botId === botId);
      for (const actor of mine) {
        actor.halt();
        actors.delete(actor.id);
        lastUsed.delete(actor.id);
      }
      return mine.length;
    },

    /** New limits for every loaded queue of a bot; unloaded ones take them when next loaded. */
    async applyLimits(botId: string): Promise<void> {
      const limits = deps.limitsFor(botId);
      for (const actor of [...actors.values()].filter((a) => a.botId === botId)) {
        if (!sameLimits(actor.getSnapshot().context.limits, limits)) await deps.lanes.run(actor.id, () => actor.send({ type: 'limits.changed', limits, now: deps.clock() }));
      }
    },
  };
}

export type QueueResidency = ReturnType<typeof queueResidency>;

function sameLimits(a: QueueLimits, b: QueueLimits): boolean {
  return a.maxMessages === b.maxMessages && a.maxCharacters === b.maxCharacters && a.maxAgeDays === b.maxAgeDays && a.maxCharactersPerMessage === b.maxCharactersPerMessage;
}
