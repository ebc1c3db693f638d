import { randomUUID } from 'node:crypto';
import type { InspectionEvent } from 'xstate';
import { OUTBOX_DELIVERY_MACHINE_VERSION, outboxDeliveryMachine } from '../../../machines/outbox-delivery.machine.ts';
import type { OutboxDeliveryEffects } from '../../../machines/outbox-delivery.machine.ts';
import { backoffDelay } from '../../domain/backoff.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import type { Logger } from '../../logging/logger.ts';
import type { OutboundOutcome } from '../../ports/history-store.port.ts';
import type { OutboxData, OutboxRecord, OutboxState, OutboxStore } from '../../ports/outbox-store.port.ts';
import type { ProviderSession } from '../../ports/provider.port.ts';
import { SendRefused } from '../../ports/provider.port.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import { sleep } from '../actors/retry.ts';
import { sweepExpiredLeases } from '../work-queue/lease-sweeper.ts';
import { createRowActorHost } from '../work-queue/row-actor-host.ts';
import type { RowActorHost, RowScope } from '../work-queue/row-actor-host.ts';
import { queueLifecycle } from '../work-queue/queue-lifecycle.ts';
import { createWorker } from '../work-queue/worker.ts';

export type OutboxHost = RowActorHost<typeof outboxDeliveryMachine, OutboxData, OutboxState>;
export type OutboxScope = RowScope<OutboxRecord>;

/** Waits between sends of one message: 1 s, 2 s, 4 s. */
export const OUTBOX_RETRY: BackoffPolicy = { baseMs: 1000, maxMs: 4000, jitter: 0 };
export const DEFAULT_OUTBOX_LEASE_MS = 60_000;
/** How often a worker looks for messages queued by other instances. */
export const DEFAULT_OUTBOX_POLL_MS = 5_000;
/** The first send and three retries. */
export const DEFAULT_OUTBOX_ATTEMPTS = 4;

/** The bots as the outbox needs to see them. */
export interface OutboxBots {
  /** The provider session of a connected bot; `undefined` while it is not connected here (or gone). */
  connectedSession(botId: string): Pick<ProviderSession, 'send'> | undefined;
  /** The bots whose provider session is connected in this process: the only ones whose messages it can send. */
  connectedBotIds(): readonly string[];
}

/** Where the outbox keeps the conversation's record of what the bot said. */
export interface OutboundHistory {
  /** Writes the message as an outbound history row, pending, naming its delivery; resolves with its seq in the conversation. */
  record(botId: string, correspondentId: string, text: string, outboxId: string): Promise<number>;
  /** The seq of the row recorded for a delivery, `null` when there is none (for `sendOnce`). */
  recorded?(botId: string, correspondentId: string, outboxId: string): Promise<number | null>;
  /** The row was sent (with the provider's id for it) or failed for good. */
  settle(botId: string, correspondentId: string, seq: number, outcome: OutboundOutcome): Promise<void>;
}

/**
 * An outgoing message was sent or failed for good. `id` names this outcome and is the same when a
 * crash makes it be told again (the id of the durable effect that records it).
 */
export interface OutboundSettled {
  readonly id: string;
  readonly botId: string;
  readonly correspondentId: string;
  /** The message's seq in its conversation. */
  readonly seq: number;
  readonly deliveryId: string;
  readonly text: string;
  readonly status: 'sent' | 'failed';
  readonly providerMessageId: string | null;
  readonly error: string | null;
}

export interface OutboxDeps {
  readonly store: OutboxStore;
  readonly bots: OutboxBots;
  readonly history: OutboundHistory;
  readonly owner: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly maxAttempts?: number;
  readonly retry?: BackoffPolicy;
  /** Replaces the effect handlers (model tests record what the machine asks for instead). */
  readonly effects?: EffectTable<OutboxDeliveryEffects, OutboxScope>;
  /** Told of each outcome after history records it; the outcome's effect is acknowledged only once this resolves. */
  readonly onSettled?: (settled: OutboundSettled) => Promise<void>;
}

/**
 * Outgoing messages: each one an outbox-delivery row actor on the outbox work queue, its line the
 * conversation, so a conversation's messages go out one at a time and in order, retries included.
 * A message is a history row (`direction: 'outbound'`) before it is queued. A bot's connection
 * holds and resumes its messages. Delivery is at least once: a sender that dies after the provider
 * took a message but before its report was stored sends it again once the lease lapsed; a store
 * error after a successful send is retried as a report, never turned into a second send.
 */
export function createOutbox(deps: OutboxDeps) {
  const clock = deps.clock ?? Date.now;
  const leaseMs = deps.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  const retry = deps.retry ?? OUTBOX_RETRY;
  const log = deps.logger.child({ scope: 'outbox' });
  const stats = { sent: 0, retried: 0, failed: 0, lateReportsDiscarded: 0 };

  const effects = {
    recordSent: {
      durable: true,
      async run({ botId, correspondentId, seq, providerMessageId, deliveryId }, { item, effectId }) {
        await deps.history.settle(botId, correspondentId, seq, { status: 'sent', providerMessageId });
        await deps.onSettled?.({
          id: effectId ?? `${deliveryId}@${item.version}`, botId, correspondentId, seq, deliveryId, text: item.text, status: 'sent', providerMessageId, error: null,
        });
        stats.sent += 1;
      },
    },
    recordFailed: {
      durable: true,
      async run({ botId, correspondentId, seq, error, deliveryId }, { item, effectId }) {
        await deps.history.settle(botId, correspondentId, seq, { status: 'failed', error });
        await deps.onSettled?.({
          id: effectId ?? `${deliveryId}@${item.version}`, botId, correspondentId, seq, deliveryId, text: item.text, status: 'failed', providerMessageId: null, error,
        });
        stats.failed += 1;
        log.warn({ botId, deliveryId, error }, 'outbound message failed for good');
      },
    },
    discardLateReport: {
      durable: false,
      run(params) {
        stats.lateReportsDiscarded += 1;
        log.info(params, 'late outbox report discarded');
      },
    },
  } satisfies EffectTable<OutboxDeliveryEffects, OutboxScope>;

  const host: OutboxHost = createRowActorHost({
    machine: outboxDeliveryMachine,
    machineVersion: OUTBOX_DELIVERY_MACHINE_VERSION,
    store: deps.store,
    effects: deps.effects ?? effects,
    claimedState: 'sending',
    claimedEvent: (claim) => ({ type: 'delivery.claimed', ...claim }),
    clock,
    ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'outbox effect failed') },
  });

  // The provider took the message: its report is retried until the lease runs out, never
  // answered with a second send. Past the lease another sender may send it again (at least once).
  async function reportSent(message: OutboxRecord, providerMessageId: string): Promise<void> {
    const giveUpAt = clock() + leaseMs;
    for (let failures = 0; ; failures++) {
      try {
        await host.dispatch(message.id, { type: 'delivery.sent', attempt: message.attempt, providerMessageId });
        return;
      } catch (err) {
        if (clock() >= giveUpAt) throw err;
        log.warn({ err, deliveryId: message.id }, 'recording a sent message failed; retrying the report');
        await sleep(backoffDelay(failures + 1, { baseMs: 50, maxMs: 2000, jitter: 0.2 }, Math.random()));
      }
    }
  }

  const worker = createWorker<OutboxRecord>({
    owner: deps.owner,
    concurrency: 4,
    leaseMs,
    pollMs: deps.pollMs ?? DEFAULT_OUTBOX_POLL_MS,
    clock,
    logger: log,
    job: {
      // A message goes out through its bot's session, which lives where the bot is connected: only
      // there is it claimed. A bot still connecting is not in the list, so no claim spends an
      // attempt on it; nor does one on an instance where the bot is not at all.
      claim(owner, lease) {
        const botIds = deps.bots.connectedBotIds();
        return botIds.length === 0 ? Promise.resolve(null) : host.claim(owner, lease, { botIds });
      },
      heartbeat: (message, leaseUntil) => host.dispatch(message.id, { type: 'delivery.heartbeat', attempt: message.attempt, leaseUntil }),
      async perform(message) {
        const session = deps.bots.connectedSession(message.botId);
        if (session === undefined) {
          // Claimed before the bot's disconnect reached this message: it waits in holding.
          await host.dispatch(message.id, { type: 'bot.disconnected' });
          await host.dispatch(message.id, { type: 'delivery.failed', attempt: message.attempt, error: 'bot not connected', transient: true, retryAt: clock() });
          return;
        }
        let providerMessageId: string;
        try {
          ({ providerMessageId } = await session.send(message.correspondentId, message.text));
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          // A refusal the provider says no retry can change ends the message now; a rate limit waits as asked.
          const transient = !(err instanceof SendRefused) || err.retryable;
          const wait = Math.max(backoffDelay(message.attempt, retry, Math.random()), err instanceof SendRefused ? (err.retryAfterMs ?? 0) : 0);
          const retryAt = clock() + wait;
          const after = await host.dispatch(message.id, { type: 'delivery.failed', attempt: message.attempt, error, transient, retryAt });
          if (after.state !== 'failed') {
            stats.retried += 1;
            log.info({ botId: message.botId, deliveryId: message.id, attempt: message.attempt, error }, 'outbound message will be retried');
            setTimeout(() => worker.wake(), Math.max(0, retryAt - clock())).unref();
          }
          return;
        }
        await reportSent(message, providerMessageId);
      },
    },
  });

  async function tellRows(botId: string, event: { type: 'bot.connected' } | { type: 'bot.disconnected' }): Promise<void> {
    const rows = await deps.store.list({ botId, states: ['pending', 'holding', 'sending'] });
    for (const row of rows) await host.dispatch(row.id, event);
  }

  /** The delivery of a message whose outbound row is recorded at `seq`; its line is the conversation. */
  const createDelivery = (botId: string, to: string, text: string, deliveryId: string, seq: number): Promise<OutboxRecord> =>
    host.create(
      { deliveryId, botId, correspondentId: to, text, seq, maxAttempts: deps.maxAttempts ?? DEFAULT_OUTBOX_ATTEMPTS },
      { id: deliveryId, botId, kind: 'text', line: `${botId}|${to}`, lineSeq: seq, correspondentId: to, text, seq },
    );

  /** A new delivery goes at once, or waits in holding while its bot is not connected. */
  async function release(queued: OutboxRecord): Promise<OutboxRecord> {
    if (deps.bots.connectedSession(queued.botId) === undefined) return host.dispatch(queued.id, { type: 'bot.disconnected' });
    worker.wake();
    return queued;
  }

  const sweep = () => sweepExpiredLeases(deps.store, ['sending'], (m, now) => host.dispatch(m.id, { type: 'delivery.lease-expired', attempt: m.attempt, now }), clock(), log);
  const lifecycle = queueLifecycle({ host, worker, sweep, leaseMs, log });

  // Holding is for a bot that is not connected; one connected here holds nothing. A message held
  // for it anyway was held from an out-of-date view (queued on an instance the bot is not
  // connected to, or a disconnect seen elsewhere after the bot connected here): it is let go as
  // the bot's connect would have.
  async function releaseHeld(): Promise<void> {
    const botIds = deps.bots.connectedBotIds();
    if (botIds.length === 0) return;
    const held = await deps.store.list({ states: ['holding'], botIds });
    for (const row of held) await host.dispatch(row.id, { type: 'bot.connected' }, { held: row });
    if (held.length > 0) worker.wake();
  }
  let releaser: NodeJS.Timeout | undefined;

  return {
    host,
    stats,
    /** Queues a message: its history row first, then its delivery. */
    async send(botId: string, to: string, text: string): Promise<OutboxRecord> {
      const deliveryId = randomUUID();
      const seq = await deps.history.record(botId, to, text, deliveryId);
      let queued: OutboxRecord;
      try {
        queued = await createDelivery(botId, to, text, deliveryId, seq);
      } catch (err) {
        // The caller hears of the failure; history says the message was never queued, not that it waits.
        await deps.history.settle(botId, to, seq, { status: 'failed', error: 'not queued: the outbox could not be written' }).catch(() => undefined);
        throw err;
      }
      return release(queued);
    },
    /**
     * Queues a message under a caller's id, once: a repeat (an effect run again after a crash)
     * finds the delivery, or the history row an interrupted run left, and adds nothing.
     */
    async sendOnce(botId: string, to: string, text: string, deliveryId: string): Promise<OutboxRecord> {
      const existing = await host.get(deliveryId);
      if (existing !== null) return existing;
      const seq = (await deps.history.recorded?.(botId, to, deliveryId)) ?? (await deps.history.record(botId, to, text, deliveryId));
      let queued: OutboxRecord;
      try {
        queued = await createDelivery(botId, to, text, deliveryId, seq);
      } catch (err) {
        // Another run's insert got there first; otherwise the caller runs this again, reusing the row.
        const landed = await host.get(deliveryId).catch(() => null);
        if (landed === null) throw err;
        return landed;
      }
      return release(queued);
    },
    /** The bot connected: its waiting messages may go. */
    async resume(botId: string): Promise<void> {
      await tellRows(botId, { type: 'bot.connected' });
      worker.wake();
    },
    /** The bot disconnected: its waiting messages hold until it is back. */
    hold: (botId: string): Promise<void> => tellRows(botId, { type: 'bot.disconnected' }),
    /** An operator retry of a message that failed for good. */
    retry: (id: string) => host.dispatch(id, { type: 'delivery.retry' }).then((m) => (worker.wake(), m)),
    /**
     * Runs effects a crash left unacknowledged, sweeps lapsed leases, then sends. Messages of bots
     * not connected here stay as they are: other instances may be sending them, and they are
     * claimed here only once their bot connects here.
     */
    async start(): Promise<void> {
      await lifecycle.recover();
      lifecycle.start();
      clearInterval(releaser);
      releaser = setInterval(() => void releaseHeld().catch((err: unknown) => log.warn({ err }, 'letting go of held messages failed')), deps.pollMs ?? DEFAULT_OUTBOX_POLL_MS);
      releaser.unref();
    },
    halt(): void {
      clearInterval(releaser);
      lifecycle.halt();
    },
    async stop(graceMs?: number): Promise<void> {
      clearInterval(releaser);
      await lifecycle.stop(graceMs);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
