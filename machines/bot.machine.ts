import { assign, setup } from 'xstate';
import { effects } from './effect.ts';
import type { BotContext, BotEffects, BotEvent, BotInput, BotParams, BotStateName } from './bot.types.ts';

/** The machine's input, context, events and effect parameter types. */
export type * from './bot.types.ts';

/** Stored with every bot snapshot; bump when a stored snapshot would no longer restore. */
export const BOT_MACHINE_VERSION = 1;

interface Args {
  readonly context: BotContext;
}
const bot = ({ context }: Args): BotParams => ({ botId: context.botId });
const connectProvider = { type: 'connectProvider', params: ({ context }: Args) => ({ botId: context.botId, attempt: context.attempt }) } as const;
const publishQr = { type: 'publishQr', params: ({ context }: Args) => ({ botId: context.botId, qr: context.qr ?? '' }) } as const;
const scheduleReconnect = {
  type: 'scheduleReconnect',
  params: ({ context }: Args) => ({ botId: context.botId, attempt: context.attempt, retryAt: context.retryAt ?? 0 }),
} as const;

/** Entered `state`: durable, so a crash between the decision and its announcement still announces it. */
const announce = (state: BotStateName) =>
  ({
    type: 'announceState',
    params: ({ context }: Args) => ({
      botId: context.botId,
      state,
      reason: state === 'reconnecting' ? context.lastDisconnect : state === 'failed' ? context.lastError : null,
    }),
  }) as const;

/** Every running state can be stopped, lose its session, or have the provider give up. */
const goingDown = {
  'bot.stop': { target: 'stopping', actions: 'markStopRequested' },
  'provider.logged-out': { target: 'stopping', actions: 'markLoggedOut' },
  'provider.failed': { target: 'stopping', actions: 'markFailed' },
} as const;
/** A dropped connection backs off and retries while attempts remain, otherwise the bot fails. */
const dropped = {
  'provider.disconnected': [
    { guard: 'canReconnect', target: 'reconnecting', actions: ['recordDisconnect', scheduleReconnect] },
    { target: 'stopping', actions: 'markDisconnectFatal' },
  ],
} as const;
const connectionNews = {
  'provider.qr': { target: 'awaiting-qr', actions: ['storeQr', publishQr] },
  'provider.connecting': { target: 'connecting' },
  'provider.connected': { target: 'connected' },
} as const;

/**
 * Lifecycle of one bot's provider session, as a pure decider. Reconnect backoff is data: the
 * `provider.disconnected` event brings the `retryAt` the runtime computed, the machine counts the
 * attempt and asks for `scheduleReconnect`; the runtime's timer answers with `reconnect.due`
 * carrying that attempt, and a stale one is ignored. Every way down passes through `stopping`,
 * which holds media jobs and flushes ingestion, and ends where `bot.stopped` and the stop reason
 * lead: `stopped`, `logged-out` or `failed`.
 */
export const botMachine = setup({
  types: {} as { context: BotContext; events: BotEvent; input: BotInput },
  guards: {
    canReconnect: ({ context, event }) =>
      event.type === 'provider.disconnected' &&
      event.retryable &&
      (context.maxReconnectAttempts === null || context.attempt < context.maxReconnectAttempts),
    isCurrentAttempt: ({ context, event }) => event.type === 'reconnect.due' && event.attempt === context.attempt,
    wasLoggedOut: ({ context }) => context.stopReason === 'logged-out',
    hasFailed: ({ context }) => context.stopReason === 'failed',
  },
  actions: {
    resetSession: assign(({ context, event }) => ({
      attempt: 0, retryAt: null, qr: null, stopReason: null, lastDisconnect: null, lastError: null,
      maxReconnectAttempts: event.type === 'bot.start' && event.maxReconnectAttempts !== undefined ? event.maxReconnectAttempts : context.maxReconnectAttempts,
    })),
    storeQr: assign(({ event }) => (event.type === 'provider.qr' ? { qr: event.qr } : {})),
    markConnected: assign({ attempt: 0, retryAt: null, qr: null }),
    recordDisconnect: assign(({ context, event }) =>
      event.type === 'provider.disconnected' ? { attempt: context.attempt + 1, retryAt: event.retryAt, lastDisconnect: event.reason } : {},
    ),
    markStopRequested: assign({ stopReason: 'requested' as const }),
    markLoggedOut: assign({ stopReason: 'logged-out' as const }),
    markFailed: assign(({ event }) => ({ stopReason: 'failed' as const, lastError: event.type === 'provider.failed' ? event.error : 'provider failed' })),
    markDisconnectFatal: assign(({ context, event }) => {
      const reason = event.type === 'provider.disconnected' ? event.reason : 'disconnected';
      const retryable = event.type === 'provider.disconnected' && event.retryable;
      const lastError = retryable ? `gave up after ${context.attempt} reconnect attempts: ${reason}` : `disconnected: ${reason}`;
      return { stopReason: 'failed' as const, lastDisconnect: reason, lastError };
    }),
    clearRetry: assign({ retryAt: null, qr: null }),
    ...effects<BotEffects>({
      connectProvider: true,
      disconnectProvider: true,
      publishQr: true,
      reapMediaJobs: true,
      resumeOutbox: true,
      holdOutbox: true,
      scheduleReconnect: true,
      cancelReconnect: true,
      holdMediaJobs: true,
      flushIngestion: true,
      discardCredentials: true,
      announceState: true,
    }),
  },
}).createMachine({
  id: 'bot',
  context: ({ input }) => ({
    botId: input.botId,
    maxReconnectAttempts: input.maxReconnectAttempts,
    attempt: 0,
    retryAt: null,
    qr: null,
    stopReason: null,
    lastDisconnect: null,
    lastError: null,
  }),
  initial: 'stopped',
  states: {
    // No entry effect: the first state is not announced (machines decide nothing on creation);
    // the way back here from `stopping` announces it.
    stopped: {
      on: { 'bot.start': { target: 'starting', actions: ['resetSession', connectProvider] } },
    },
    starting: {
      entry: announce('starting'),
      on: { ...goingDown, ...dropped, ...connectionNews },
    },
    'awaiting-qr': {
      entry: announce('awaiting-qr'),
      on: { ...goingDown, ...dropped, ...connectionNews, 'provider.qr': { actions: ['storeQr', publishQr] } },
    },
    connecting: {
      entry: announce('connecting'),
      on: { ...goingDown, ...dropped, 'provider.qr': connectionNews['provider.qr'], 'provider.connected': connectionNews['provider.connected'] },
    },
    connected: {
      entry: ['markConnected', { type: 'reapMediaJobs', params: bot }, { type: 'resumeOutbox', params: bot }, announce('connected')],
      exit: { type: 'holdOutbox', params: bot },
      on: { ...goingDown, ...dropped },
    },
    reconnecting: {
      entry: announce('reconnecting'),
      exit: { type: 'cancelReconnect', params: ({ context }) => ({ botId: context.botId, attempt: context.attempt }) },
      on: {
        ...goingDown,
        ...connectionNews,
        'reconnect.due': { guard: 'isCurrentAttempt', target: 'connecting', actions: connectProvider },
      },
    },
    stopping: {
      entry: [{ type: 'disconnectProvider', params: bot }, { type: 'flushIngestion', params: bot }, { type: 'holdMediaJobs', params: bot }, announce('stopping')],
      on: {
        'provider.logged-out': { actions: 'markLoggedOut' },
        'bot.stopped': [
          { guard: 'wasLoggedOut', target: 'logged-out', actions: 'clearRetry' },
          { guard: 'hasFailed', target: 'failed', actions: 'clearRetry' },
          { target: 'stopped', actions: ['clearRetry', announce('stopped')] },
        ],
      },
    },
    'logged-out': {
      entry: [{ type: 'discardCredentials', params: bot }, announce('logged-out')],
      on: { 'bot.start': { target: 'starting', actions: ['resetSession', connectProvider] } },
    },
    failed: {
      entry: announce('failed'),
      on: { 'bot.start': { target: 'starting', actions: ['resetSession', connectProvider] } },
    },
  },
});
