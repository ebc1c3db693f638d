import { isDeepStrictEqual } from 'node:util';
import type { SnapshotFrom, StateValue } from 'xstate';
import { outboxDeliveryMachine } from '../../machines/outbox-delivery.machine.ts';
import type { OutboxDeliveryContext, OutboxDeliveryEvent, RecordFailedParams, RecordSentParams } from '../../machines/outbox-delivery.machine.ts';
import { topLevelState } from '../../machines/state-name.ts';
import type { MachineModel, Observation, PathInvariants } from './model-types.ts';

const T0 = Date.UTC(2025, 0, 1);
const BUDGET = 2;
const CLAIM_LEASE = T0 + 60_000;
const HEARTBEAT_LEASE = T0 + 120_000;
/** Sweeper times: before the claim's lease, exactly at it (lapsed), exactly at the heartbeat's (lapsed). */
const SWEEPS = [T0 + 30_000, CLAIM_LEASE, HEARTBEAT_LEASE];
const EFFECTS = new Set(['recordSent', 'recordFailed', 'discardLateReport']);

/** Sample events for a delivery snapshot: current and stale worker reports, sweeps, bot and operator events. */
function events(snapshot: SnapshotFrom<typeof outboxDeliveryMachine>): OutboxDeliveryEvent[] {
  const { attempt, maxAttempts } = snapshot.context;
  const stale = attempt - 1;
  const list: OutboxDeliveryEvent[] = [
    { type: 'delivery.claimed', owner: 'sender-a', leaseUntil: CLAIM_LEASE, attempt: attempt + 1 },
    { type: 'delivery.claimed', owner: 'sender-b', leaseUntil: CLAIM_LEASE, attempt: attempt + 2 },
    { type: 'delivery.heartbeat', attempt, leaseUntil: HEARTBEAT_LEASE },
    { type: 'delivery.heartbeat', attempt: stale, leaseUntil: T0 + 180_000 },
    { type: 'delivery.sent', attempt, providerMessageId: `wamid-${attempt}` },
    { type: 'delivery.sent', attempt: stale, providerMessageId: 'wamid-late' },
    { type: 'delivery.failed', attempt, error: 'rate limited', transient: true, retryAt: T0 + 5_000 },
    { type: 'delivery.failed', attempt, error: 'not on WhatsApp', transient: false, retryAt: null },
    { type: 'delivery.failed', attempt: stale, error: 'late failure', transient: true, retryAt: T0 + 5_000 },
    ...SWEEPS.map((now) => ({ type: 'delivery.lease-expired' as const, attempt, now })),
    { type: 'delivery.lease-expired', attempt: stale, now: HEARTBEAT_LEASE },
    { type: 'bot.connected' },
    { type: 'bot.disconnected' },
  ];
  if (maxAttempts <= BUDGET) list.push({ type: 'delivery.retry' });
  return list;
}

/** What event payloads depend on (attempt) plus what decides the next transition (limit, lease, connection). */
function serializeState(snapshot: { readonly value: StateValue; readonly context: OutboxDeliveryContext }): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.attempt, c.maxAttempts, c.leaseUntil, c.botConnected]);
}

type Report = Extract<OutboxDeliveryEvent, { type: 'delivery.sent' | 'delivery.failed' | 'delivery.heartbeat' }>;
const REPORTS = new Set(['delivery.sent', 'delivery.failed', 'delivery.heartbeat']);
const isReport = (e: OutboxDeliveryEvent): e is Report => REPORTS.has(e.type);

function checkShape(o: Observation<OutboxDeliveryContext>): void {
  const top = topLevelState(o.value);
  const c = o.context;
  const sending = top === 'sending';
  if ((c.owner !== null) !== sending || (c.leaseUntil !== null) !== sending) throw new Error(`claim fields set in ${top}`);
  if (top === 'pending' && !c.botConnected) throw new Error('pending while the bot is disconnected');
  if (top === 'holding' && c.botConnected) throw new Error('holding while the bot is connected');
  if (top === 'failed' && c.error === null) throw new Error('failed without an error');
  if (top === 'sent' && c.providerMessageId === null) throw new Error('sent without a provider message id');
  if (c.attempt > c.maxAttempts) throw new Error(`attempt ${c.attempt} beyond maxAttempts ${c.maxAttempts}`);
}

type Seen = Observation<OutboxDeliveryContext>;

/** `after` kept `before`'s state, holds exactly `context` and ran exactly `effects`. */
function expectUnchanged(what: string, before: Seen, after: Seen, context: OutboxDeliveryContext, effects: string[]): void {
  if (!isDeepStrictEqual(after.value, before.value)) throw new Error(`${what} changed the state`);
  if (!isDeepStrictEqual(after.context, context)) throw new Error(`${what} changed the context`);
  const types = after.effects.map((e) => e.type);
  if (!isDeepStrictEqual(types, effects)) throw new Error(`${what} ran [${types}]`);
}

/**
 * Invariants of one delivery's path: fencing (I5), the heartbeat winning over a stale sweep
 * (race k), monotonic attempts, one `recordSent` on entering `sent` and one `recordFailed` on
 * entering `failed`, with the params the context holds.
 */
function invariants(): PathInvariants<OutboxDeliveryEvent, OutboxDeliveryContext> {
  let sentRecords = 0;
  return {
    start: checkShape,
    step({ event, before, after }) {
      checkShape(after);
      if (after.context.attempt < before.context.attempt) throw new Error('attempt decreased');
      if (after.context.maxAttempts < before.context.maxAttempts) throw new Error('maxAttempts decreased');
      const wasSending = topLevelState(before.value) === 'sending';

      if (isReport(event)) {
        const live = wasSending && event.attempt === before.context.attempt;
        if (!live) {
          const counted = { ...before.context, discardedReports: before.context.discardedReports + 1 };
          expectUnchanged(`stale ${event.type}`, before, after, counted, ['discardLateReport']);
        } else if (after.effects.some((e) => e.type === 'discardLateReport')) {
          throw new Error(`live ${event.type} was discarded`);
        }
      }
      if (event.type === 'delivery.lease-expired') {
        const applies = wasSending && event.attempt === before.context.attempt && (before.context.leaseUntil ?? Infinity) <= event.now;
        if (!applies) expectUnchanged(`lease expiry at ${event.now}`, before, after, before.context, []);
      }

      const from = topLevelState(before.value);
      const to = topLevelState(after.value);
      const entered = to !== from ? to : null;
      const types = after.effects.map((e) => e.type);
      const unknown = types.filter((t) => !EFFECTS.has(t));
      if (unknown.length > 0) throw new Error(`unexpected effects [${unknown}]`);
      for (const [effect, state] of [['recordSent', 'sent'], ['recordFailed', 'failed']] as const) {
        const emitted = types.includes(effect);
        if (emitted && entered !== state) throw new Error(`${effect} outside entering ${state}`);
        if (!emitted && entered === state) throw new Error(`${effect} missing on entering ${state}`);
      }

      for (const effect of after.effects) {
        if (effect.type === 'recordSent') {
          sentRecords += 1;
          const p = effect.params as RecordSentParams;
          if (p.providerMessageId !== after.context.providerMessageId || p.seq !== after.context.seq) throw new Error('recordSent params differ');
        }
        if (effect.type === 'recordFailed') {
          const p = effect.params as RecordFailedParams;
          if (p.error !== after.context.error || p.seq !== after.context.seq) throw new Error('recordFailed params differ');
        }
      }
      if (sentRecords > 1) throw new Error('recordSent emitted twice');
    },
  };
}

export const outboxDeliveryModel: MachineModel<typeof outboxDeliveryMachine> = {
  name: 'outbox-delivery',
  machine: outboxDeliveryMachine,
  input: { deliveryId: 'delivery-1', botId: 'bot-1', correspondentId: 'c-1', text: 'on my way', seq: 12, maxAttempts: BUDGET },
  events,
  serializeState,
  invariants,
};
