import { randomUUID } from 'node:crypto';
import { ParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { SendRefused } from '../../ports/provider.port.ts';
import type { ProviderFactory, ProviderHandlers, ProviderSession } from '../../ports/provider.port.ts';
import type { SimulatorSession, SimulatorWorld } from '../../ports/simulator-world.port.ts';
import { createMemorySimulatorWorld } from './memory-simulator-world.ts';
import { DEFAULT_LOG_RETRY_DELAYS_MS, createSessionLog } from './simulator-session-log.ts';
import type { LoggedSession } from './simulator-session-log.ts';
import { parseInbound, toInboundMessage } from './simulator-inbound.ts';
import type { SimulatorInboundPayload } from './simulator-inbound.ts';

export type { SimulatorInboundMedia, SimulatorInboundPayload } from './simulator-inbound.ts';

/** One text a bot sent through the simulator. */
export interface SimulatorOutboundMessage {
  readonly to: string;
  readonly text: string;
  readonly providerMessageId: string;
  /** Epoch ms. */
  readonly sentAt: number;
}

export interface SimulatorHubOptions {
  /** Characters of outbound text kept per bot; the oldest messages are dropped beyond this. Default 1,000,000. */
  readonly maxOutboundCharsPerBot?: number;
  /** Outbound messages kept per bot; the oldest are dropped beyond this. Default 500. */
  readonly maxOutboundPerBot?: number;
  /** Sessions kept per bot in the session log; the oldest are dropped beyond this. Default 200. */
  readonly maxSessionsPerBot?: number;
  /** Clock for `sentAt`, `originatingAt` and the session log; epoch ms. */
  readonly now?: () => number;
  /**
   * Where sessions and sent messages are recorded: the store's, so every instance sees the same
   * fake WhatsApp. Default: this process's memory.
   */
  readonly world?: SimulatorWorld;
  /** The Parley instance this hub runs in, as the session log names it. Default `local`. */
  readonly instanceId?: string;
  /** Told of session records given up after every retry. */
  readonly logger?: Pick<Logger, 'warn'>;
  /** Waits between the tries of a session record. Default 50, 250 and 1,000 ms. */
  readonly sessionLogRetryDelaysMs?: readonly number[];
}

/** A typing indication a bot showed through the simulator. */
export interface SimulatorPresence {
  readonly to: string;
  readonly presence: 'composing' | 'paused';
  /** Epoch ms. */
  readonly at: number;
}

/** The simulator: a provider factory plus the test-facing side of its fake WhatsApp. */
export interface SimulatorHub {
  readonly factory: ProviderFactory;
  /** Delivers a message to a bot connected in this process; resolves once the bot has stored it. */
  inbound(botId: string, payload: SimulatorInboundPayload): Promise<{ messageId: string }>;
  /** What the bot has sent, oldest first, whichever instance sent it. */
  outbound(botId: string): Promise<readonly SimulatorOutboundMessage[]>;
  /** The bot's provider sessions, newest last, whichever instance ran them. */
  sessions(botId: string): Promise<readonly SimulatorSession[]>;
  /** Typing indications the bot showed in this process, oldest first (the latest 100). */
  presence(botId: string): readonly SimulatorPresence[];
  isConnected(botId: string): boolean;
  /**
   * Drops a deleted bot's sent messages and sessions, so a bot created under its id starts clean.
   * A store that keeps failing is logged, not reported: the bot is gone either way.
   */
  forget(botId: string): Promise<void>;
}

interface SessionState {
  readonly handlers: ProviderHandlers;
  connected: boolean;
  /** Bumped by every start and stop so a connect scheduled before a stop never lands. */
  generation: number;
  /** The session record of the current start; null once stopped. */
  logged: LoggedSession | null;
}

const DEFAULT_MAX_OUTBOUND = 500;
const DEFAULT_MAX_OUTBOUND_CHARS = 1_000_000;
const DEFAULT_MAX_SESSIONS = 200;
const SILENT = { warn: () => {} };

/**
 * Creates a simulator. Sessions are tracked per bot id; the newest session of a bot is the one
 * inbound messages reach, so a session replaced on restart goes quiet. Sent messages and the
 * session log live in the world (the store's when given) and outlive sessions, so a test can read
 * what a bot sent before it was stopped, or on another instance.
 */
export function createSimulatorHub(options: SimulatorHubOptions = {}): SimulatorHub {
  const caps = {
    maxMessages: positive(options.maxOutboundPerBot ?? DEFAULT_MAX_OUTBOUND, 'maxOutboundPerBot'),
    maxChars: options.maxOutboundCharsPerBot ?? DEFAULT_MAX_OUTBOUND_CHARS,
  };
  const now = options.now ?? Date.now;
  const world = options.world ?? createMemorySimulatorWorld();
  const log = createSessionLog({
    world,
    instanceId: options.instanceId ?? 'local',
    retryDelaysMs: options.sessionLogRetryDelaysMs ?? DEFAULT_LOG_RETRY_DELAYS_MS,
    keepSessions: positive(options.maxSessionsPerBot ?? DEFAULT_MAX_SESSIONS, 'maxSessionsPerBot'),
    logger: options.logger ?? SILENT,
  });
  // This process's connections, by bot; the records of every instance's sessions are in the world.
  const states = new Map<string, SessionState>();
  const presenceLogs = new Map<string, SimulatorPresence[]>();

  function endSession(state: SessionState, at: Date, reason: string): Promise<boolean> {
    const { logged } = state;
    state.logged = null;
    return logged === null ? Promise.resolve(true) : log.end(logged, at, reason);
  }

  const factory: ProviderFactory = (botId, _settings, handlers) => {
    const state: SessionState = { handlers, connected: false, generation: 0, logged: null };
    states.set(botId, state);
    const session: ProviderSession = {
      start() {
        const generation = ++state.generation;
        state.connected = false;
        const at = new Date(now());
        void endSession(state, at, 'replaced');
        const logged = log.begin(botId, at);
        state.logged = logged;
        // Real providers report progress after start() returns; the simulator keeps that order.
        setImmediate(() => {
          if (state.generation !== generation) return;
          handlers.onEvent({ type: 'provider.connecting' });
          // Connected only once the start is durable: the log never misses a connected session.
          void logged.recorded.then((recorded) => setImmediate(() => {
            if (state.generation !== generation) return;
            if (!recorded) {
              void endSession(state, new Date(now()), 'unrecorded');
              handlers.onEvent({ type: 'provider.disconnected', reason: 'simulator: the session log is unavailable', retryable: true });
              return;
            }
            state.connected = true;
            void log.connected(logged, new Date(now()));
            handlers.onEvent({ type: 'provider.connected' });
          }));
        });
        return Promise.resolve();
      },
      async stop() {
        // Silent: the bot machine asked for the stop, so it needs no event to learn of it.
        state.generation++;
        state.connected = false;
        // Awaited (tries are bounded) so that once stopped, the log says so to every instance.
        await endSession(state, new Date(now()), 'stopped');
      },
      async send(to, text) {
        if (!state.connected) throw ParleyError.of('CONFLICT', { reason: `simulator: bot ${botId} is not connected` });
        const providerMessageId = `SIM-OUT-${randomUUID()}`;
        try {
          await world.recordOutbound({ botId, to, text, providerMessageId, sentAt: now() }, caps);
        } catch (err) {
          // Not sent as far as anyone can read: the outbox tries again.
          throw new SendRefused(`simulator: the sent message could not be recorded: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
        }
        return { providerMessageId };
      },
      sendPresence(to, presence) {
        if (!state.connected) return Promise.resolve();
        const entries = presenceLogs.get(botId) ?? [];
        entries.push({ to, presence, at: now() });
        if (entries.length > 100) entries.shift();
        presenceLogs.set(botId, entries);
        return Promise.resolve();
      },
    };
    return session;
  };

  return {
    factory,
    async inbound(botId, payload) {
      const parsed = parseInbound(payload);
      const state = states.get(botId);
      if (state === undefined || !state.connected) throw ParleyError.of('CONFLICT', { reason: 'bot is not running' }, { details: { botId } });
      const message = toInboundMessage(parsed, now());
      await state.handlers.onMessage(message);
      return { messageId: message.providerMessageId };
    },
    async outbound(botId) {
      return (await world.outbound(botId)).map(({ to, text, providerMessageId, sentAt }) => ({ to, text, providerMessageId, sentAt }));
    },
    sessions(botId) {
      return world.sessions(botId);
    },
    presence(botId) {
      return [...(presenceLogs.get(botId) ?? [])];
    },
    isConnected(botId) {
      return states.get(botId)?.connected ?? false;
    },
    async forget(botId) {
      presenceLogs.delete(botId);
      const state = states.get(botId);
      if (state !== undefined && !state.connected) states.delete(botId);
      await log.forget(botId);
    },
  };
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
