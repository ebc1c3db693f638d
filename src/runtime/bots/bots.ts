import { BOT_MACHINE_VERSION, botMachine } from '../../../machines/bot.machine.ts';
import type { BotEffects } from '../../../machines/bot.machine.ts';
import { ParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { BotRecord } from '../../ports/bot-store.port.ts';
import type { ProviderEvent, ProviderFactory, ProviderSession } from '../../ports/provider.port.ts';
import type { Store } from '../../ports/store.port.ts';
import type { MediaJobListFilter } from '../../ports/media-job-store.port.ts';
import { retryDelay, sleep } from '../actors/retry.ts';
import type { RetryPolicy } from '../actors/retry.ts';
import { EffectsFailed, createPersistedActor, restorePersistedActor } from '../actors/persisted-actor.ts';
import type { ActorFence, PersistedActor, PersistedActorOptions, PersistenceStats } from '../actors/persisted-actor.ts';
import type { InspectionHub } from '../actors/inspection-hub.ts';
import type { MediaJobHost } from '../media-jobs/media-job-host.ts';
import type { ProviderHandlers } from '../../ports/provider.port.ts';
import { botEffects } from './bot-effects.ts';
import type { BotStateChange } from './bot-effects.ts';

export type { BotStateChange } from './bot-effects.ts';
import { providerNews } from './provider-news.ts';
import type { PendingQr, ReconnectPolicy } from './provider-news.ts';

export type { PendingQr, ReconnectPolicy } from './provider-news.ts';

export type BotActor = PersistedActor<typeof botMachine>;

export interface BotsDeps {
  readonly store: Store;
  readonly providers: Readonly<Record<string, ProviderFactory>>;
  readonly jobs: MediaJobHost;
  readonly inspection: InspectionHub;
  readonly stats: PersistenceStats;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Inbound messages of a bot; resolves once durable. */
  readonly onMessage: (botId: string) => ProviderHandlers['onMessage'];
  /** Writes every pending history row; used when a bot stops. */
  readonly flushIngestion: (botId: string, timeoutMs: number) => Promise<boolean>;
  readonly flushTimeoutMs?: number;
  /**
   * Removes everything a deleted bot owned apart from its definition: queues, jobs, history,
   * outbox, credentials. Runs once the bot has stopped; the definition goes last, so a deletion
   * cut short by a crash leaves a bot that can be deleted again.
   */
  readonly purge?: (botId: string) => Promise<void>;
  /** A bot was created (perhaps under the id of a deleted one). */
  readonly onCreated?: (botId: string) => void;
  /** The bot's connection came up (its outbox may send) or went down (its outbox holds). */
  readonly onConnection?: (botId: string, connected: boolean) => void;
  /** A fresh pairing QR code is waiting to be scanned. */
  readonly onQr?: (botId: string, qr: string) => void;
  /**
   * The bot entered another top-level state. `id` names this change and is the same when a crash
   * makes it be told again; the change is acknowledged once this resolves, so it should not fail.
   */
  readonly onStateChanged?: (change: BotStateChange) => Promise<void>;
  /**
   * Reconnects of a dropped session: how many before the bot fails (`null`: no limit), the longest
   * wait, and the first one (1 s unless given).
   */
  readonly reconnect?: ReconnectPolicy;
  /**
   * Ownership (I14): takes a bot just created when this instance has room (hosting it through
   * `adopt`); without it every bot is hosted here. `fence` guards every write of the bot actors.
   */
  readonly claim?: (botId: string) => Promise<boolean>;
  readonly fence?: ActorFence;
  /** A deleted bot's lease is forgotten. */
  readonly onDeleted?: (botId: string) => Promise<void>;
}

/** Tries of a stop's failed effects before the stop is answered with the failure. */
const STOP_RETRY: RetryPolicy = { attempts: 5, baseMs: 100, maxMs: 2000 };

/**
 * Bot actors and their provider sessions. Provider reports become machine events; the machine's
 * effects (connect, hold or reap media jobs, flush ingestion, schedule reconnects) run here, one
 * bot at a time in decision order.
 */
export function createBots(deps: BotsDeps) {
  const actors = new Map<string, BotActor>();
  const sessions = new Map<string, ProviderSession>();
  const timers = new Map<string, NodeJS.Timeout>();
  const started = new Set<string>();
  const news = providerNews({ clock: deps.clock, attemptOf: (botId) => actorOf(botId).getSnapshot().context.attempt, ...(deps.reconnect === undefined ? {} : { policy: deps.reconnect }) });
  const startEvent = { type: 'bot.start', maxReconnectAttempts: news.maxReconnectAttempts } as const;
  const chains = new Map<string, Promise<void>>();
  const log = deps.logger.child({ scope: 'bots' });
  // Bots being handed to another instance: their sessions close without the bot hearing of it.
  const leaving = new Set<string>();
  let closing = false;

  function actorOf(botId: string): BotActor {
    const actor = actors.get(botId);
    if (actor === undefined) throw new ParleyError('NOT_FOUND', `Bot ${botId} not found`);
    return actor;
  }

  async function decideAndRun(botId: string, event: Parameters<BotActor['send']>[0]): Promise<void> {
    const actor = actorOf(botId);
    try {
      await actor.sendAndSettle(event);
    } catch (err) {
      // A decision that was not written changes nothing to recover from here: the caller hears it.
      if (!(err instanceof EffectsFailed)) throw err;
      const state = String(actor.getSnapshot().value);
      if (state === 'starting' || state === 'connecting') {
        // The session could not be opened (its retries spent): the machine hears it as the provider
        // failing, so the bot ends visibly `failed` with the reason instead of hanging in `starting`.
        log.warn({ err, botId }, 'provider session could not be opened');
        await decideAndRun(botId, { type: 'provider.failed', error: `could not connect: ${err.message}` });
        return;
      }
      if (state !== 'stopping') throw err;
    }
    // Stopping ends when its effects (disconnect, flush, hold jobs) are done: never with its media
    // jobs unheld. A failed one is tried again here; while it keeps failing the bot stays stopping
    // (the caller hears the failure) and a later stop tries again.
    if (actor.getSnapshot().value === 'stopping' && event.type !== 'bot.stopped') {
      for (let failures = 0, left = actor.unacknowledgedEffects(); left > 0; ) {
        try {
          await actor.retryEffects();
          // Nothing left, or nothing this table can run (an effect of another build): go on.
          if (actor.unacknowledgedEffects() >= left) break;
          left = actor.unacknowledgedEffects();
        } catch (err) {
          failures += 1;
          if (failures >= STOP_RETRY.attempts) throw err;
          await sleep(retryDelay(STOP_RETRY, failures));
        }
      }
      await decideAndRun(botId, { type: 'bot.stopped' });
    }
  }

  /** Decides events for one bot in arrival order, each after the previous one's effects ran. */
  function send(botId: string, event: Parameters<BotActor['send']>[0]): Promise<void> {
    actorOf(botId);
    const previous = chains.get(botId) ?? Promise.resolve();
    const next = previous.then(() => decideAndRun(botId, event));
    chains.set(botId, next.catch((err: unknown) => log.error({ err, botId }, 'bot effect failed')));
    return next;
  }

  function onProviderEvent(botId: string, event: ProviderEvent): void {
    // A session closing because the process shuts down is not the bot disconnecting.
    if (!actors.has(botId) || closing || leaving.has(botId)) return;
    // A session that went down is dead (a closed WhatsApp Web socket is never reused): the next
    // connect opens a fresh one.
    if (event.type === 'provider.disconnected' || event.type === 'provider.logged-out' || event.type === 'provider.failed') started.delete(botId);
    void send(botId, news.toMachineEvent(botId, event)).catch(() => undefined);
  }

  async function session(botId: string): Promise<ProviderSession> {
    const existing = sessions.get(botId);
    if (existing !== undefined) return existing;
    const bot = await deps.store.bots.get(botId);
    if (bot === null) throw new ParleyError('NOT_FOUND', `Bot ${botId} not found`);
    const factory = deps.providers[bot.provider];
    if (factory === undefined) throw new ParleyError('VALIDATION_FAILED', `Unknown provider ${bot.provider}`);
    const created = factory(botId, bot.settings, { onEvent: (e) => onProviderEvent(botId, e), onMessage: deps.onMessage(botId) });
    sessions.set(botId, created);
    return created;
  }

  async function forEachJob(botId: string, filter: Pick<MediaJobListFilter, 'states' | 'statePaths'>, event: { type: 'bot.started' } | { type: 'bot.stopped' }) {
    const jobs = await deps.store.mediaJobs.list({ botId, ...filter });
    for (const job of jobs) await deps.jobs.dispatch(job.id, event);
    return jobs.length;
  }

  /**
   * Hosts one stored bot. A bot caught mid-session by a crash or a shutdown is treated as a dropped
   * connection (it reconnects at once, without moving its media jobs around); a bot caught
   * stopping finishes stopping; a bot that should not run is brought down.
   */
  async function restore(bot: BotRecord): Promise<void> {
    const actor = await host(bot);
    const state = String(actor.getSnapshot().value);
    const live = ['starting', 'awaiting-qr', 'connecting', 'connected'].includes(state);
    // A bot caught stopping finishes stopping whatever was asked of it since; its stored
    // effects (holding its media jobs) ran when it was restored.
    if (state === 'stopping') {
      await send(bot.id, { type: 'bot.stopped' });
    } else if (bot.desiredState !== 'running') {
      if (live || state === 'reconnecting') await send(bot.id, { type: 'bot.stop' });
    } else if (live) {
      await send(bot.id, { type: 'provider.disconnected', reason: 'process restarted', retryable: true, retryAt: deps.clock() });
    } else if (state === 'reconnecting') {
      await send(bot.id, { type: 'reconnect.due', attempt: actor.getSnapshot().context.attempt });
    }
    if (bot.desiredState === 'running' && String(actor.getSnapshot().value) === 'stopped') await send(bot.id, startEvent);
  }

  const effects = botEffects({
    deps, log, sessions, started, timers,
    session: (botId) => (actors.has(botId) ? session(botId) : Promise.resolve(null)),
    reconnectDue: (botId, attempt) => void send(botId, { type: 'reconnect.due', attempt }).catch(() => undefined),
    forEachJob,
  });

  const options: PersistedActorOptions<typeof botMachine, BotEffects> = {
    machine: botMachine,
    machineVersion: BOT_MACHINE_VERSION,
    store: deps.store.actors,
    effects,
    inspect: deps.inspection.inspect,
    stats: deps.stats,
    // A command waits for its write: a store that stays down answers the operator with an error.
    writeRetry: { attempts: 3, baseMs: 50, maxMs: 500 },
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'bot effect failed') },
    ...(deps.fence === undefined ? {} : { fence: deps.fence }),
  };

  // Asking for what is already asked changes nothing, not even the definition's `updatedAt`.
  async function desire(botId: string, desiredState: BotRecord['desiredState']): Promise<void> {
    const record = await deps.store.bots.get(botId);
    if (record?.desiredState !== desiredState) await deps.store.bots.update(botId, { desiredState }, new Date(deps.clock()));
  }

  function unload(botId: string): void {
    actors.delete(botId);
    chains.delete(botId);
    news.forget(botId);
  }

  async function closeSession(botId: string): Promise<void> {
    const s = sessions.get(botId);
    sessions.delete(botId);
    started.delete(botId);
    await s?.stop().catch((err: unknown) => log.warn({ err, botId }, 'provider session did not close cleanly'));
  }

  async function host(record: BotRecord): Promise<BotActor> {
    const stored = await deps.store.actors.get(record.id);
    const actor = stored === null
      ? await createPersistedActor(options, { id: record.id, kind: 'bot', botId: record.id }, { botId: record.id, maxReconnectAttempts: null })
      : await restorePersistedActor(options, stored);
    actors.set(record.id, actor);
    return actor;
  }

  return {
    actor: actorOf,
    has: (botId: string) => actors.has(botId),
    state: (botId: string) => String(actorOf(botId).getSnapshot().value),
    session: (botId: string) => sessions.get(botId),
    /** Ids of every hosted bot. */
    ids: () => [...actors.keys()],
    /** The bot actor's context (QR, last error, reconnect attempt). */
    context: (botId: string) => actorOf(botId).getSnapshot().context,
    /** The QR code waiting to be scanned, with its expiry where the provider reported one. */
    pendingQr: (botId: string): PendingQr | null => news.pendingQr(botId, actorOf(botId).getSnapshot().context.qr),

    async create(bot: Omit<BotRecord, 'createdAt' | 'updatedAt'>): Promise<BotRecord> {
      const record = await deps.store.bots.create(bot, new Date(deps.clock()));
      deps.onCreated?.(record.id);
      if (deps.claim === undefined) await host(record);
      else await deps.claim(record.id);
      return record;
    },
    /** Hosts a stored bot this instance just took: restored as after a restart (see `restore`). */
    async adopt(botId: string): Promise<void> {
      const record = await deps.store.bots.get(botId);
      if (record === null) throw new ParleyError('NOT_FOUND', `Bot ${botId} not found`);
      await restore(record);
    },
    /**
     * Hands a bot to another instance: its session closes, pending history is written and its
     * actor writes what it decided, then it leaves memory. Its state stays what it was, so the
     * next host reconnects a running bot at once, as after a restart.
     */
    async release(botId: string): Promise<void> {
      const actor = actors.get(botId);
      if (actor === undefined) return;
      leaving.add(botId);
      try {
        clearTimeout(timers.get(botId));
        timers.delete(botId);
        await chains.get(botId);
        await closeSession(botId);
        if (!(await deps.flushIngestion(botId, deps.flushTimeoutMs ?? 3000))) log.warn({ botId }, 'history flush timed out while handing the bot over');
        await actor.stop();
      } finally {
        unload(botId);
        leaving.delete(botId);
      }
    },
    /** Drops a bot this instance lost at once, writing nothing: its new host has it. */
    async forget(botId: string): Promise<void> {
      const actor = actors.get(botId);
      if (actor === undefined) return;
      actor.halt();
      clearTimeout(timers.get(botId));
      timers.delete(botId);
      unload(botId);
      await closeSession(botId);
    },
    /**
     * Records what is asked of a bot no instance hosts right now (all are full, or it is changing
     * hands): the instance that takes it starts or stops it accordingly.
     */
    want: (botId: string, desiredState: BotRecord['desiredState']): Promise<void> => desire(botId, desiredState),
    async start(botId: string): Promise<void> {
      await desire(botId, 'running');
      await send(botId, startEvent);
    },
    async stop(botId: string): Promise<void> {
      await desire(botId, 'stopped');
      await send(botId, { type: 'bot.stop' });
      await chains.get(botId);
    },
    /**
     * Removes a bot: stops it if it runs (jobs to holding, history flushed), unloads it, purges
     * what it owned, then deletes its definition. A bot left unhosted by an earlier attempt that
     * failed half-way is purged all the same.
     */
    async delete(botId: string): Promise<void> {
      const actor = actors.get(botId);
      if (actor !== undefined) {
        if (!['stopped', 'logged-out', 'failed'].includes(String(actor.getSnapshot().value))) await send(botId, { type: 'bot.stop' });
        await chains.get(botId);
        await actor.stop();
        actors.delete(botId);
        chains.delete(botId);
      }
      clearTimeout(timers.get(botId));
      timers.delete(botId);
      news.forget(botId);
      const s = sessions.get(botId);
      sessions.delete(botId);
      started.delete(botId);
      await s?.stop();
      await deps.purge?.(botId);
      await deps.store.actors.delete(botId);
      await deps.onDeleted?.(botId);
      await deps.store.bots.delete(botId);
    },
    /** Drops timers without touching providers or the store (the process is going away). */
    halt(): void {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const actor of actors.values()) actor.halt();
    },
    /**
     * The process is going away, not the bots: sessions close and pending writes are flushed, but
     * no bot changes state and no media job moves. The next start treats running bots as dropped
     * connections (they reconnect at once) and their jobs are claimable as they were, so a restart
     * costs nothing per job.
     */
    async shutdown(): Promise<void> {
      closing = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.all(
        [...actors.keys()].map(async (botId) => {
          await chains.get(botId);
          const s = sessions.get(botId);
          sessions.delete(botId);
          started.delete(botId);
          await s?.stop().catch((err: unknown) => log.warn({ err, botId }, 'provider session did not close cleanly'));
          if (!(await deps.flushIngestion(botId, deps.flushTimeoutMs ?? 3000))) log.warn({ botId }, 'history flush timed out while shutting down');
          await actorOf(botId).stop();
        }),
      );
    },
  };
}

export type Bots = ReturnType<typeof createBots>;
