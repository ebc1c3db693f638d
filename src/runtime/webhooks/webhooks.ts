import type { InspectionEvent } from 'xstate';
import { WEBHOOK_DELIVERY_MACHINE_VERSION, webhookDeliveryMachine } from '../../../machines/webhook-delivery.machine.ts';
import type { WebhookDeliveryEffects, WebhookDeliveryEvent } from '../../../machines/webhook-delivery.machine.ts';
import { backoffDelay } from '../../domain/backoff.ts';
import { ParleyError, isParleyError } from '../../domain/errors.ts';
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS, eventBody } from '../../domain/webhook-events.ts';
import type { WebhookEvent } from '../../domain/webhook-events.ts';
import type { Logger } from '../../logging/logger.ts';
import type { WebhookSender, WebhookUrlPolicy } from '../../ports/webhook-sender.port.ts';
import type { WebhookDeliveryData, WebhookDeliveryRecord, WebhookDeliveryState, WebhookDeliveryStore, WebhookSubscription, WebhookSubscriptionStore } from '../../ports/webhook-store.port.ts';
import type { WorkItemPosition } from '../../ports/work-queue.port.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import { sleep } from '../actors/retry.ts';
import { sweepExpiredLeases } from '../work-queue/lease-sweeper.ts';
import { queueLifecycle } from '../work-queue/queue-lifecycle.ts';
import { createRowActorHost } from '../work-queue/row-actor-host.ts';
import type { RowActorHost, RowScope } from '../work-queue/row-actor-host.ts';
import { createWorker } from '../work-queue/worker.ts';
import { createSubscriptions } from './webhook-subscriptions.ts';
import type { CreatedSubscription, SubscriptionRequest } from './webhook-subscriptions.ts';
import { deliveryIdOf, signedHeaders } from './webhook-signer.ts';

export type WebhookHost = RowActorHost<typeof webhookDeliveryMachine, WebhookDeliveryData, WebhookDeliveryState>;
export type WebhookScope = RowScope<WebhookDeliveryRecord>;

export const DEFAULT_WEBHOOK_LEASE_MS = 60_000;
/** Longest wait a receiver's `Retry-After` is taken at its word for. */
const MAX_RETRY_AFTER_MS = 86_400_000;
const PATIENT_RETRY = { baseMs: 50, maxMs: 5_000, jitter: 0.2 };

export interface WebhooksDeps {
  readonly subscriptions: WebhookSubscriptionStore;
  readonly deliveries: WebhookDeliveryStore;
  readonly sender: WebhookSender;
  /** Which URLs may be subscribed (WEBHOOK_DENY_PRIVATE); any http(s) URL when absent. */
  readonly policy?: WebhookUrlPolicy;
  readonly owner: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly inspect?: (event: InspectionEvent) => void;
  /** Delay before each retry; their number is the number of retries. */
  readonly retryDelaysMs?: readonly number[];
  /** WEBHOOK_LEASE_MS: an attempt whose worker stopped heartbeating this long is made again; 60 s when absent. */
  readonly leaseMs?: number;
  readonly pollMs?: number;
  /** How often subscriptions made or removed by other instances are picked up. */
  readonly refreshMs?: number;
  readonly concurrency?: number;
  /** Replaces the effect handlers (model tests record what the machine asks for instead). */
  readonly effects?: EffectTable<WebhookDeliveryEffects, WebhookScope>;
}

/** A page of a subscription's deliveries, oldest first. */
export interface DeliveryPage {
  readonly state?: WebhookDeliveryState;
  readonly limit: number;
  readonly after?: WorkItemPosition;
}

/**
 * Signed event webhooks: subscriptions, and one webhook-delivery row actor per (subscription,
 * event) on the shared work queue, sent by a worker with leases, heartbeats, the lease sweeper and
 * retries on the configured schedule, dead-lettered in `failed` and retryable by an operator.
 * Sources publish from their durable effects; the delivery id is derived from subscription and
 * event, so an event published again after a crash is stored once. Deleting a subscription
 * deletes its deliveries, pending ones included: nothing more is sent to it.
 */
export function createWebhooks(deps: WebhooksDeps) {
  const clock = deps.clock ?? Date.now;
  const leaseMs = deps.leaseMs ?? DEFAULT_WEBHOOK_LEASE_MS;
  const pollMs = deps.pollMs ?? 5_000;
  const delays = deps.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
  const log = deps.logger.child({ scope: 'webhooks' });
  const stats = { delivered: 0, retried: 0, failed: 0, lateReportsDiscarded: 0 };
  let halted = false;
  let stopped = false;
  const subscriptions = createSubscriptions({
    store: deps.subscriptions, policy: deps.policy ?? { check: async () => {} }, logger: deps.logger, clock, refreshMs: deps.refreshMs ?? 5_000,
  });

  const effects = {
    recordOutcome: {
      durable: false,
      run({ outcome, ...fields }) {
        stats[outcome] += 1;
        if (outcome === 'failed') log.warn(fields, 'webhook delivery failed for good');
        else if (outcome === 'retried') log.info(fields, 'webhook delivery will be retried');
        else log.debug(fields, 'webhook delivered');
      },
    },
    discardLateReport: {
      durable: false,
      run(params) {
        stats.lateReportsDiscarded += 1;
        log.info(params, 'late webhook delivery report discarded');
      },
    },
  } satisfies EffectTable<WebhookDeliveryEffects, WebhookScope>;

  const host: WebhookHost = createRowActorHost({
    machine: webhookDeliveryMachine,
    machineVersion: WEBHOOK_DELIVERY_MACHINE_VERSION,
    store: deps.deliveries,
    effects: deps.effects ?? effects,
    claimedState: 'delivering',
    claimedEvent: (claim) => ({ type: 'delivery.claimed', ...claim }),
    clock,
    ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'webhook delivery effect failed') },
  });

  /** The wait before the retry after attempt `attempt`; counted afresh within each budget an operator retry grants. */
  const scheduled = (attempt: number): number => {
    if (delays.length === 0) return 0;
    const index = (attempt - 1) % (delays.length + 1);
    return delays[Math.min(index, delays.length - 1)] ?? 0;
  };

  // A report is retried until the lease runs out: the attempt happened, and a store error must not
  // turn it into another one. Past the lease another worker may send it again (at least once).
  async function report(delivery: WebhookDeliveryRecord, event: WebhookDeliveryEvent): Promise<WebhookDeliveryRecord> {
    const giveUpAt = clock() + leaseMs;
    for (let failures = 0; ; failures++) {
      try {
        return await host.dispatch(delivery.id, event);
      } catch (err) {
        if (halted || clock() >= giveUpAt || isParleyError(err, 'NOT_FOUND')) throw err;
        log.warn({ err, deliveryId: delivery.id }, 'recording a webhook delivery attempt failed; retrying the report');
        await sleep(backoffDelay(failures + 1, PATIENT_RETRY, Math.random()));
      }
    }
  }

  async function perform(delivery: WebhookDeliveryRecord, signal: AbortSignal): Promise<void> {
    // Read afresh: a subscription another instance removed is not sent to on the strength of a cache.
    const subscription = await deps.subscriptions.get(delivery.subscriptionId);
    if (subscription === null) {
      // Published by an instance that had not yet heard of the removal: nobody wants it.
      await deps.deliveries.delete(delivery.id);
      log.info({ deliveryId: delivery.id, subscriptionId: delivery.subscriptionId }, 'delivery of a removed webhook subscription dropped');
      return;
    }
    if (subscription.secret === null) {
      // Nothing could sign it; no attempt will help until the key that sealed the secret is configured again.
      const error = 'the subscription\'s secret cannot be decrypted with the configured keys (PARLEY_SECRET_KEY, PARLEY_SECRET_KEY_PREVIOUS)';
      await report(delivery, { type: 'delivery.failed', attempt: delivery.attempt, error, status: null, retryable: false, retryAt: null });
      return;
    }
    const headers = signedHeaders(subscription.secret, delivery.id, Math.floor(clock() / 1000), delivery.body);
    const result = await deps.sender.send({ url: subscription.url, headers, body: delivery.body, signal });
    // The process is going away: nothing more is written, and the lease lapses as a dead process's would.
    if (signal.aborted || halted) return;
    const attempt = delivery.attempt;
    if (result.outcome === 'delivered') {
      await report(delivery, { type: 'delivery.delivered', attempt, status: result.status });
      return;
    }
    const retryable = result.outcome === 'retry';
    const wait = retryable ? Math.min(result.retryAfterMs ?? scheduled(attempt), MAX_RETRY_AFTER_MS) : 0;
    const retryAt = retryable ? clock() + wait : null;
    const after = await report(delivery, { type: 'delivery.failed', attempt, error: result.error, status: result.status, retryable, retryAt });
    // A retry due before the next poll is woken for; a later one is found by the poll, so a receiver
    // down for an hour does not hold a timer per delivery.
    if (after.state === 'pending' && retryAt !== null && wait < pollMs) setTimeout(() => worker.wake(), wait).unref();
  }

  const worker = createWorker<WebhookDeliveryRecord>({
    owner: deps.owner,
    concurrency: deps.concurrency ?? 8,
    leaseMs,
    pollMs,
    clock,
    logger: log,
    job: {
      claim: (owner, lease) => host.claim(owner, lease),
      heartbeat: (delivery, leaseUntil) => host.dispatch(delivery.id, { type: 'delivery.heartbeat', attempt: delivery.attempt, leaseUntil }),
      perform,
    },
  });

  const sweep = () =>
    sweepExpiredLeases(deps.deliveries, ['delivering'], (d, now) => host.dispatch(d.id, { type: 'delivery.lease-expired', attempt: d.attempt, now }, { held: d }), clock(), log);
  const lifecycle = queueLifecycle({ host, worker, sweep, leaseMs, log });

  async function insert(subscription: WebhookSubscription, event: WebhookEvent, body: string): Promise<void> {
    const id = deliveryIdOf(subscription.id, event.id);
    const data = { subscriptionId: subscription.id, eventId: event.id, eventType: event.type, body, eventAt: new Date(event.at) };
    try {
      await host.create(
        { deliveryId: id, subscriptionId: subscription.id, eventId: event.id, eventType: event.type, maxAttempts: delays.length + 1 },
        { id, botId: subscription.id, kind: event.type, line: null, lineSeq: null, ...data },
      );
    } catch (err) {
      // The same event published again (its source's effect ran again after a crash): already queued.
      if (!isParleyError(err, 'STORE_DUPLICATE_KEY')) throw err;
    }
  }

  /**
   * Queues `event` for every subscription that wants it and resolves once each delivery row is
   * stored, so a source that awaits it is acknowledged only after. Nobody subscribed: nothing is
   * read or written. A store error rejects, for the source to try again.
   */
  async function publish(event: WebhookEvent): Promise<number> {
    if (halted) throw ParleyError.of('SHUTTING_DOWN');
    const wanted = await subscriptions.matching(event.type);
    if (wanted.length === 0) return 0;
    const body = eventBody(event);
    await Promise.all(wanted.map((subscription) => insert(subscription, event, body)));
    worker.wake();
    return wanted.length;
  }

  return {
    host,
    stats,
    publish,
    /**
     * `publish`, tried again with backoff until it succeeds or the process stops: for sources
     * whose own retry would not be heard (listeners) or would cost more than waiting (the bot).
     */
    async publishPatiently(event: WebhookEvent): Promise<number> {
      for (let failures = 0; ; failures++) {
        try {
          return await publish(event);
        } catch (err) {
          if (halted || stopped) throw err;
          log.warn({ err, eventType: event.type, eventId: event.id }, 'publishing a webhook event failed; trying again');
          await sleep(backoffDelay(failures + 1, PATIENT_RETRY, Math.random()));
        }
      }
    },
    subscribe: (request: SubscriptionRequest): Promise<CreatedSubscription> => subscriptions.subscribe(request),
    list: subscriptions.list,
    get: subscriptions.get,
    /** Removes the subscription and every delivery of it; resolves with whether the subscription existed. */
    async remove(id: string): Promise<boolean> {
      const removed = await subscriptions.remove(id);
      await deps.deliveries.deleteByBot(id);
      return removed;
    },
    /** One page of a subscription's deliveries, oldest first; one more than `limit` tells whether another page follows. */
    deliveries: (subscriptionId: string, page: DeliveryPage): Promise<WebhookDeliveryRecord[]> =>
      deps.deliveries.list({
        botId: subscriptionId,
        ...(page.state === undefined ? {} : { states: [page.state] }),
        ...(page.after === undefined ? {} : { after: page.after }),
        limit: page.limit,
      }),
    /** An operator retry of a delivery that failed for good: a fresh budget of attempts. */
    async retry(subscriptionId: string, deliveryId: string): Promise<WebhookDeliveryRecord> {
      const delivery = await deps.deliveries.get(deliveryId);
      if (delivery === null || delivery.subscriptionId !== subscriptionId) {
        throw ParleyError.of('NOT_FOUND', { resource: `Delivery ${deliveryId} of webhook ${subscriptionId}` });
      }
      if (delivery.state !== 'failed') throw ParleyError.of('DELIVERY_NOT_RETRYABLE', { id: deliveryId, state: delivery.state });
      const retried = await host.dispatch(deliveryId, { type: 'delivery.retry' });
      // It was failed when read; a retry that did not move it lost to another change in between.
      if (retried.state === 'failed') throw ParleyError.of('CONFLICT', { reason: `Webhook delivery ${deliveryId} could not be retried` });
      worker.wake();
      return retried;
    },
    /** Sweeps lapsed leases, loads the subscriptions and starts delivering. */
    async start(): Promise<void> {
      halted = false;
      stopped = false;
      await lifecycle.recover();
      await subscriptions.matching('bot.state').catch((err: unknown) => log.warn({ err }, 'webhook subscriptions could not be read; trying again later'));
      subscriptions.start();
      lifecycle.start();
    },
    /** Stops at once without writing anything more (the process is going away). */
    halt(): void {
      halted = true;
      subscriptions.stop();
      lifecycle.halt();
    },
    /** Stops claiming and waits for the attempts under way, aborting them after `graceMs`. */
    async stop(graceMs?: number): Promise<void> {
      stopped = true;
      subscriptions.stop();
      await lifecycle.stop(graceMs);
    },
    /** Subscriptions this process knows of, for metrics. */
    subscriptionCount: subscriptions.count,
    worker: { wake: () => worker.wake(), stats: () => worker.stats() },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
