import { isDeepStrictEqual } from 'node:util';
import type { SnapshotFrom, StateValue } from 'xstate';
import { botMachine } from '../../machines/bot.machine.ts';
import type { AnnounceStateParams, BotContext, BotEvent, ScheduleReconnectParams } from '../../machines/bot.machine.ts';
import type { MachineModel, Observation, PathInvariants } from './model-types.ts';

const T0 = Date.UTC(2025, 0, 1);
const MAX_RECONNECTS = 2;
const RUNNING = ['starting', 'awaiting-qr', 'connecting', 'connected', 'reconnecting'];
const DOWN = ['stopped', 'logged-out', 'failed'];

/** Sample events for a bot snapshot, including a reconnect timer that belongs to another attempt. */
function events(snapshot: SnapshotFrom<typeof botMachine>): BotEvent[] {
  const { attempt } = snapshot.context;
  return [
    { type: 'bot.start' },
    { type: 'bot.stop' },
    { type: 'bot.stopped' },
    { type: 'provider.qr', qr: 'qr-code' },
    { type: 'provider.connecting' },
    { type: 'provider.connected' },
    { type: 'provider.disconnected', reason: 'connection lost', retryable: true, retryAt: T0 + 1_000 * 2 ** attempt },
    { type: 'provider.disconnected', reason: 'forbidden', retryable: false, retryAt: T0 },
    { type: 'provider.logged-out' },
    { type: 'provider.failed', error: 'socket error' },
    { type: 'reconnect.due', attempt },
    { type: 'reconnect.due', attempt: attempt + 1 },
  ];
}

function serializeState(snapshot: { readonly value: StateValue; readonly context: BotContext }): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.attempt, c.stopReason]);
}

function checkShape({ value, context: c }: Observation<BotContext>): void {
  const state = String(value);
  if (state === 'connected' && (c.attempt !== 0 || c.retryAt !== null)) throw new Error('connected with a pending reconnect');
  if (state === 'reconnecting' && (c.attempt < 1 || c.retryAt === null)) throw new Error('reconnecting without an attempt and a due time');
  if (c.maxReconnectAttempts !== null && c.attempt > c.maxReconnectAttempts) throw new Error(`attempt ${c.attempt} beyond the limit`);
  if (state === 'stopping' && c.stopReason === null) throw new Error('stopping without a reason');
  if (RUNNING.includes(state) && c.stopReason !== null) throw new Error(`${state} with a stop reason`);
  if (state === 'logged-out' && c.stopReason !== 'logged-out') throw new Error('logged-out for another reason');
  if (state === 'failed' && c.lastError === null) throw new Error('failed without an error');
}

const effectsOf = (o: Observation<BotContext>) => o.effects.map((e) => e.type);

/** Invariants of one bot's path: every way down drains, connecting reaps, backoff is data, stale timers do nothing. */
function invariants(): PathInvariants<BotEvent, BotContext> {
  return {
    start: checkShape,
    step({ event, before, after }) {
      checkShape(after);
      const from = String(before.value);
      const to = String(after.value);
      const types = effectsOf(after);
      const entered = from !== to ? to : null;

      if (DOWN.includes(to) && RUNNING.includes(from)) throw new Error(`${from} → ${to} skipped stopping`);
      const drains = ['disconnectProvider', 'flushIngestion', 'holdMediaJobs'];
      if ((entered === 'stopping') !== drains.every((d) => types.includes(d))) throw new Error('stopping must drain exactly once on entry');
      if (types.includes('holdMediaJobs') && entered !== 'stopping') throw new Error('media jobs held outside stopping');
      if ((entered === 'connected') !== types.includes('reapMediaJobs')) throw new Error('reapMediaJobs must run exactly on connecting');
      if ((entered === 'logged-out') !== types.includes('discardCredentials')) throw new Error('credentials discarded outside logged-out');
      const announced = after.effects.filter((e) => e.type === 'announceState').map((e) => (e.params as AnnounceStateParams).state);
      if (!isDeepStrictEqual(announced, entered === null ? [] : [entered])) throw new Error(`announced [${announced}] on ${from} → ${to}`);
      if (from === 'connected' && entered !== null && !types.includes('holdOutbox')) throw new Error('left connected without holding the outbox');

      const schedule = after.effects.find((e) => e.type === 'scheduleReconnect');
      if ((entered === 'reconnecting') !== (schedule !== undefined)) throw new Error('scheduleReconnect must accompany entering reconnecting');
      if (schedule !== undefined) {
        const p = schedule.params as ScheduleReconnectParams;
        if (event.type !== 'provider.disconnected' || p.retryAt !== event.retryAt || p.attempt !== after.context.attempt) {
          throw new Error('scheduleReconnect must carry the attempt and the retryAt from the event');
        }
        if (after.context.attempt !== before.context.attempt + 1) throw new Error('a disconnect must count one attempt');
      }
      if (from === 'reconnecting' && entered !== null && !types.includes('cancelReconnect')) throw new Error('left reconnecting without cancelling its timer');

      if (event.type === 'reconnect.due' && event.attempt !== before.context.attempt) {
        if (!isDeepStrictEqual(before, { ...after, effects: before.effects })) throw new Error('a stale reconnect.due changed the bot');
        if (types.length > 0) throw new Error('a stale reconnect.due ran effects');
      }
      if (types.includes('connectProvider') && !(entered === 'starting' || entered === 'connecting')) throw new Error('connectProvider outside starting/connecting');
    },
  };
}

export const botModel: MachineModel<typeof botMachine> = {
  name: 'bot',
  machine: botMachine,
  input: { botId: 'bot-1', maxReconnectAttempts: MAX_RECONNECTS },
  events,
  serializeState,
  invariants,
};
