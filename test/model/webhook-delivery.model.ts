import { isDeepStrictEqual } from 'node:util';
import type { SnapshotFrom, StateValue } from 'xstate';
import { webhookDeliveryMachine } from '../../machines/webhook-delivery.machine.ts';
import type { RecordOutcomeParams, WebhookDeliveryContext, WebhookDeliveryEvent } from '../../machines/webhook-delivery.machine.ts';
import { topLevelState } from '../../machines/state-name.ts';
import type { MachineModel, Observation, PathInvariants } from './model-types.ts';

const T0 = Date.UTC(2025, 0, 1);
const BUDGET = 2;
const CLAIM_LEASE = T0 + 60_000;
const HEARTBEAT_LEASE = T0 + 120_000;
/** Sweeper times: before the claim's lease, exactly at it (lapsed), exactly at the heartbeat's (lapsed). */
const SWEEPS = [T0 + 30_000, CLAIM_LEASE, HEARTBEAT_LEASE];
const EFFECTS = new Set(['recordOutcome', 'discardLateReport']);
const RETRY_AT = T0 + 5_000;

/** Sample events for a delivery snapshot: current and stale worker reports of every kind, sweeps, the operator's retry. */
function events(snapshot: SnapshotFrom<typeof webhookDeliveryMachine>): WebhookDeliveryEvent[] {
  const { attempt, maxAttempts } = snapshot.context;
  const stale = attempt - 1;
  const list: WebhookDeliveryEvent[] = [
    { type: 'delivery.claimed', owner: 'worker-a', leaseUntil: CLAIM_LEASE, attempt: attempt + 1 },
    { type: 'delivery.claimed', owner: 'worker-b', leaseUntil: CLAIM_LEASE, attempt: attempt + 2 },
    { type: 'delivery.heartbeat', attempt, leaseUntil: HEARTBEAT_LEASE },
    { type: 'delivery.heartbeat', attempt: stale, leaseUntil: T0 + 180_000 },
    { type: 'delivery.delivered', attempt, status: 204 },
    { type: 'delivery.delivered', attempt: stale, status: 200 },
    { type: 'delivery.failed', attempt, error: 'HTTP 503', status: 503, retryable: true, retryAt: RETRY_AT },
    { type: 'delivery.failed', attempt, error: 'HTTP 404', status: 404, retryable: false, retryAt: null },
    { type: 'delivery.failed', attempt: stale, error: 'late failure', status: null, retryable: true, retryAt: RETRY_AT },
    ...SWEEPS.map((now) => ({ type: 'delivery.lease-expired' as const, attempt, now })),
    { type: 'delivery.lease-expired', attempt: stale, now: HEARTBEAT_LEASE },
  ];
  if (maxAttempts <= BUDGET) list.push({ type: 'delivery.retry' });
  return list;
}

/** What event payloads depend on (attempt) plus what decides the next transition (limit, lease). */
function serializeState(snapshot: { readonly value: StateValue; readonly context: WebhookDeliveryContext }): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.attempt, c.maxAttempts, c.leaseUntil]);
}

type Report = Extract<WebhookDeliveryEvent, { type: 'delivery.delivered' | 'delivery.failed' | 'delivery.heartbeat' }>;
const REPORTS = new Set(['delivery.delivered', 'delivery.failed', 'delivery.heartbeat']);
const isReport = (e: WebhookDeliveryEvent): e is Report => REPORTS.has(e.type);

function checkShape(o: Observation<WebhookDeliveryContext>): void {
  const top = topLevelState(o.value);
  const c = o.context;
  const delivering = top === 'delivering';
  if ((c.owner !== null) !== delivering || (c.leaseUntil !== null) !== delivering) throw new Error(`claim fields set in ${top}`);
  if (top === 'failed' && c.error === null) throw new Error('failed without an error');
  if (top === 'delivered' && (c.error !== null || c.lastStatus === null)) throw new Error('delivered with an error or without a status');
  if (c.attempt > c.maxAttempts) throw new Error(`attempt ${c.attempt} beyond maxAttempts ${c.maxAttempts}`);
}

type Seen = Observation<WebhookDeliveryContext>;

/** `after` kept `before`'s state, holds exactly `context` and ran exactly `effects`. */
function expectUnchanged(what: string, before: Seen, after: Seen, context: WebhookDeliveryContext, effects: string[]): void {
  if (!isDeepStrictEqual(after.value, before.value)) throw new Error(`${what} changed the state`);
  if (!isDeepStrictEqual(after.context, context)) throw new Error(`${what} changed the context`);
  const types = after.effects.map((e) => e.type);
  if (!isDeepStrictEqual(types, effects)) throw new Error(`${what} ran [${types}]`);
}

const OUTCOME_BY_TARGET: Readonly<Record<string, RecordOutcomeParams['outcome']>> = { delivered: 'delivered', pending: 'retried', failed: 'failed' };

/**
 * Invariants of one delivery's path: fencing (I5), the heartbeat winning over a stale sweep
 * (race k), monotonic attempts, a retry due when the failure said, exactly one `recordOutcome` for
 * every attempt that ends (its outcome the state entered), and nothing after `delivered`.
 */
function invariants(): PathInvariants<WebhookDeliveryEvent, WebhookDeliveryContext> {
  return {
    start: checkShape,
    step({ event, before, after }) {
      checkShape(after);
      if (after.context.attempt < before.context.attempt) throw new Error('attempt decreased');
      if (after.context.maxAttempts < before.context.maxAttempts) throw new Error('maxAttempts decreased');
      const from = topLevelState(before.value);
      const to = topLevelState(after.value);
      const wasDelivering = from === 'delivering';

      if (isReport(event)) {
        const live = wasDelivering && event.attempt === before.context.attempt;
        if (!live) {
          const counted = { ...before.context, discardedReports: before.context.discardedReports + 1 };
          expectUnchanged(`stale ${event.type}`, before, after, counted, ['discardLateReport']);
        } else if (after.effects.some((e) => e.type === 'discardLateReport')) {
          throw new Error(`live ${event.type} was discarded`);
        }
      }
      if (event.type === 'delivery.lease-expired') {
        const applies = wasDelivering && event.attempt === before.context.attempt && (before.context.leaseUntil ?? Infinity) <= event.now;
        if (!applies) expectUnchanged(`lease expiry at ${event.now}`, before, after, before.context, []);
      }
      if (from === 'delivered' && !isDeepStrictEqual(after.value, before.value)) throw new Error('left delivered');
      if (event.type === 'delivery.failed' && wasDelivering && to === 'pending' && after.context.notBefore !== event.retryAt) {
        throw new Error('a retry is not due when the failure said');
      }
      if (event.type === 'delivery.failed' && !event.retryable && wasDelivering && event.attempt === before.context.attempt && to !== 'failed') {
        throw new Error('a failure no retry can help was retried');
      }

      const types = after.effects.map((e) => e.type);
      const unknown = types.filter((t) => !EFFECTS.has(t));
      if (unknown.length > 0) throw new Error(`unexpected effects [${unknown}]`);
      const outcomes = after.effects.filter((e) => e.type === 'recordOutcome').map((e) => e.params as RecordOutcomeParams);
      const ended = wasDelivering && to !== 'delivering';
      if (outcomes.length !== (ended ? 1 : 0)) throw new Error(`${outcomes.length} outcomes recorded on ${from} → ${to}`);
      for (const o of outcomes) {
        if (o.outcome !== OUTCOME_BY_TARGET[to] || o.attempt !== after.context.attempt || o.deliveryId !== after.context.deliveryId) {
          throw new Error(`recordOutcome ${JSON.stringify(o)} on entering ${to}`);
        }
      }
    },
  };
}

export const webhookDeliveryModel: MachineModel<typeof webhookDeliveryMachine> = {
  name: 'webhook-delivery',
  machine: webhookDeliveryMachine,
  input: { deliveryId: 'msg_0123456789abcdef', subscriptionId: 'wh_model', eventId: 'message.received:e-1', eventType: 'message.received', maxAttempts: BUDGET },
  events,
  serializeState,
  invariants,
};
