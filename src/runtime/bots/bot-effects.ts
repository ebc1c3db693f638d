import type { BotEffects } from '../../../machines/bot.machine.ts';
import type { Logger } from '../../logging/logger.ts';
import type { MediaJobListFilter } from '../../ports/media-job-store.port.ts';
import type { ProviderSession } from '../../ports/provider.port.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import type { ActorScope } from '../actors/persisted-actor.ts';
import type { Store } from '../../ports/store.port.ts';

/**
 * Media-job states a connecting bot moves on: held jobs resume, and results not yet delivered (or
 * failures not yet told) are delivered. Jobs delivered, or failed and told, are never touched, so
 * a connect costs what is outstanding, not every job the bot ever had.
 */
const REAPED_JOB_STATES = ['holding.idle', 'holding.claimed', 'completed', 'failed.notifying'];

/** A bot's move to another top-level state. */
export interface BotStateChange {
  readonly id: string;
  readonly botId: string;
  readonly state: string;
  readonly reason: string | null;
}

/** The part of `BotsDeps` the effects use (documented there). */
export interface BotEffectsDeps {
  readonly store: Pick<Store, 'authState'>;
  readonly clock: () => number;
  readonly flushIngestion: (botId: string, timeoutMs: number) => Promise<boolean>;
  readonly flushTimeoutMs?: number;
  readonly onConnection?: (botId: string, connected: boolean) => void;
  readonly onQr?: (botId: string, qr: string) => void;
  readonly onStateChanged?: (change: BotStateChange) => Promise<void>;
}

/** What the bot effects work on: the hosting state of `createBots`. */
export interface BotEffectsContext {
  readonly deps: BotEffectsDeps;
  readonly log: Logger;
  readonly sessions: Map<string, ProviderSession>;
  /** Bots whose session was started and has not gone down since. */
  readonly started: Set<string>;
  readonly timers: Map<string, NodeJS.Timeout>;
  /** The bot's session, made when missing; null when the bot is not hosted here. */
  readonly session: (botId: string) => Promise<ProviderSession | null>;
  readonly reconnectDue: (botId: string, attempt: number) => void;
  readonly forEachJob: (botId: string, filter: Pick<MediaJobListFilter, 'states' | 'statePaths'>, event: { type: 'bot.started' } | { type: 'bot.stopped' }) => Promise<number>;
}

/**
 * The bot machine's effects. Connection effects are not stored: after a restart the bot's state
 * says whether a session should be open and restore reconnects from it. Moving media jobs and
 * discarding credentials are stored and run again until done; both are idempotent.
 */
export function botEffects({ deps, log, sessions, started, timers, session, reconnectDue, forEachJob }: BotEffectsContext) {
  return {
    connectProvider: {
      durable: false,
      async run({ botId }) {
        if (started.has(botId)) return;
        const s = await session(botId);
        // A bot this instance let go of meanwhile opens no session here.
        if (s === null) return;
        started.add(botId);
        try {
          await s.start();
        } catch (err) {
          started.delete(botId);
          throw err;
        }
      },
    },
    disconnectProvider: {
      durable: false,
      async run({ botId }) {
        const s = sessions.get(botId);
        sessions.delete(botId);
        started.delete(botId);
        await s?.stop();
      },
    },
    publishQr: {
      durable: false,
      run({ botId, qr }) {
        log.info({ botId }, 'pairing QR code ready to scan');
        deps.onQr?.(botId, qr);
      },
    },
    scheduleReconnect: {
      durable: false,
      run({ botId, attempt, retryAt }) {
        clearTimeout(timers.get(botId));
        const timer = setTimeout(() => reconnectDue(botId, attempt), Math.max(0, retryAt - deps.clock()));
        timer.unref();
        timers.set(botId, timer);
      },
    },
    cancelReconnect: {
      durable: false,
      run({ botId }) {
        clearTimeout(timers.get(botId));
        timers.delete(botId);
      },
    },
    reapMediaJobs: {
      durable: true,
      async run({ botId }) {
        const n = await forEachJob(botId, { statePaths: REAPED_JOB_STATES }, { type: 'bot.started' });
        log.debug({ botId, jobs: n }, 'media jobs reaped');
      },
    },
    holdMediaJobs: {
      durable: true,
      async run({ botId }) {
        await forEachJob(botId, { states: ['pending', 'processing'] }, { type: 'bot.stopped' });
      },
    },
    resumeOutbox: { durable: false, run: ({ botId }) => deps.onConnection?.(botId, true) },
    holdOutbox: { durable: false, run: ({ botId }) => deps.onConnection?.(botId, false) },
    flushIngestion: {
      durable: false,
      async run({ botId }) {
        if (!(await deps.flushIngestion(botId, deps.flushTimeoutMs ?? 3000))) log.warn({ botId }, 'history flush timed out while stopping');
      },
    },
    discardCredentials: {
      durable: true,
      async run({ botId }) {
        await deps.store.authState.clear(botId);
      },
    },
    announceState: {
      durable: true,
      async run({ botId, state, reason }, { effectId }) {
        await deps.onStateChanged?.({ id: effectId ?? `${botId}@${state}@${deps.clock()}`, botId, state, reason });
      },
    },
  } satisfies EffectTable<BotEffects, ActorScope>;
}
