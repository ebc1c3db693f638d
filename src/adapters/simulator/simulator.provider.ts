import { randomUUID } from 'node:crypto';
import { ParleyError } from '../../domain/errors.ts';
import type { ProviderFactory, ProviderHandlers, ProviderSession } from '../../ports/provider.port.ts';
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
  /** Clock for `sentAt` and `originatingAt`; epoch ms. */
  readonly now?: () => number;
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
  /** Delivers a message to a connected bot; resolves once the bot has stored it. */
  inbound(botId: string, payload: SimulatorInboundPayload): Promise<{ messageId: string }>;
  /** What the bot has sent, oldest first. */
  outbound(botId: string): readonly SimulatorOutboundMessage[];
  /** Typing indications the bot showed, oldest first (the latest 100). */
  presence(botId: string): readonly SimulatorPresence[];
  isConnected(botId: string): boolean;
  /** Drops a deleted bot's outbound log and session, so a bot created under its id starts clean. */
  forget(botId: string): void;
}

interface SessionState {
  readonly handlers: ProviderHandlers;
  connected: boolean;
  /** Bumped by every start and stop so a connect scheduled before a stop never lands. */
  generation: number;
}

const DEFAULT_MAX_OUTBOUND = 500;
const DEFAULT_MAX_OUTBOUND_CHARS = 1_000_000;

/**
 * Creates a simulator. Sessions are tracked per bot id; the newest session of a bot is the one
 * inbound messages reach, so a session replaced on restart goes quiet. Outbound logs outlive
 * sessions, so a test can read what a bot sent before it was stopped.
 */
export function createSimulatorHub(options: SimulatorHubOptions = {}): SimulatorHub {
  const maxOutbound = options.maxOutboundPerBot ?? DEFAULT_MAX_OUTBOUND;
  if (!Number.isInteger(maxOutbound) || maxOutbound < 1) throw new RangeError('maxOutboundPerBot must be a positive integer');
  const now = options.now ?? Date.now;
  const sessions = new Map<string, SessionState>();
  const outboundLogs = new Map<string, SimulatorOutboundMessage[]>();
  const maxChars = options.maxOutboundCharsPerBot ?? DEFAULT_MAX_OUTBOUND_CHARS;
  const outboundChars = new Map<string, number>();
  const presenceLogs = new Map<string, SimulatorPresence[]>();

  function record(botId: string, message: SimulatorOutboundMessage): void {
    let log = outboundLogs.get(botId);
    if (log === undefined) {
      log = [];
      outboundLogs.set(botId, log);
    }
    log.push(message);
    let chars = (outboundChars.get(botId) ?? 0) + message.text.length;
    // The newest message stays even when it alone exceeds the budget: a test reads what was sent last.
    while (log.length > 1 && (log.length > maxOutbound || chars > maxChars)) chars -= log.shift()?.text.length ?? 0;
    outboundChars.set(botId, chars);
  }

  const factory: ProviderFactory = (botId, _settings, handlers) => {
    const state: SessionState = { handlers, connected: false, generation: 0 };
    sessions.set(botId, state);
    const session: ProviderSession = {
      start() {
        const generation = ++state.generation;
        state.connected = false;
        // Real providers report progress after start() returns; the simulator keeps that order.
        setImmediate(() => {
          if (state.generation !== generation) return;
          handlers.onEvent({ type: 'provider.connecting' });
          setImmediate(() => {
            if (state.generation !== generation) return;
            state.connected = true;
            handlers.onEvent({ type: 'provider.connected' });
          });
        });
        return Promise.resolve();
      },
      stop() {
        // Silent: the bot machine asked for the stop, so it needs no event to learn of it.
        state.generation++;
        state.connected = false;
        return Promise.resolve();
      },
      send(to, text) {
        if (!state.connected) return Promise.reject(ParleyError.of('CONFLICT', { reason: `simulator: bot ${botId} is not connected` }));
        const providerMessageId = `SIM-OUT-${randomUUID()}`;
        record(botId, { to, text, providerMessageId, sentAt: now() });
        return Promise.resolve({ providerMessageId });
      },
      sendPresence(to, presence) {
        if (!state.connected) return Promise.resolve();
        const log = presenceLogs.get(botId) ?? [];
        log.push({ to, presence, at: now() });
        if (log.length > 100) log.shift();
        presenceLogs.set(botId, log);
        return Promise.resolve();
      },
    };
    return session;
  };

  return {
    factory,
    async inbound(botId, payload) {
      const parsed = parseInbound(payload);
      const state = sessions.get(botId);
      if (state === undefined || !state.connected) throw ParleyError.of('CONFLICT', { reason: 'bot is not running' }, { details: { botId } });
      const message = toInboundMessage(parsed, now());
      await state.handlers.onMessage(message);
      return { messageId: message.providerMessageId };
    },
    outbound(botId) {
      return [...(outboundLogs.get(botId) ?? [])];
    },
    presence(botId) {
      return [...(presenceLogs.get(botId) ?? [])];
    },
    isConnected(botId) {
      return sessions.get(botId)?.connected ?? false;
    },
    forget(botId) {
      outboundLogs.delete(botId);
      outboundChars.delete(botId);
      presenceLogs.delete(botId);
      const state = sessions.get(botId);
      if (state !== undefined && !state.connected) sessions.delete(botId);
    },
  };
}
