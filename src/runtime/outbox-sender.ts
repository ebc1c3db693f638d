import type { Logger } from '../logging/logger.ts';
import type { OutboxRecord, OutboxStore } from '../ports/outbox-store.port.ts';
import type { ProviderSession } from '../ports/provider.port.ts';

/** The bots as the sender needs to see them: which exist, which are connected, their sessions. */
export interface OutboxBots {
  ids(): readonly string[];
  state(botId: string): string;
  session(botId: string): Pick<ProviderSession, 'send'> | undefined;
}

export interface OutboxSenderOptions {
  readonly outbox: OutboxStore;
  readonly bots: OutboxBots;
  /** Identifies this process in claims. */
  readonly owner: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Fallback poll: picks up messages queued by other instances and bots that just connected. Default 1000 ms. */
  readonly pollMs?: number;
  /**
   * How long a claimed message belongs to this sender. Past it, any sender may claim the message
   * again, so it must exceed the longest send; the old sender's report is then discarded. Default 60 s.
   */
  readonly leaseMs?: number;
  /** Wait before attempt n + 1 after attempt n failed; once exhausted the message fails for good. Default 1 s, 2 s, 4 s. */
  readonly retryDelaysMs?: readonly number[];
  readonly onSent?: (message: OutboxRecord, providerMessageId: string) => void;
  readonly onFailed?: (message: OutboxRecord, error: string, final: boolean) => void;
}

export const DEFAULT_OUTBOX_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000];
export const DEFAULT_OUTBOX_LEASE_MS = 60_000;

/**
 * Sends queued outbox messages through connected bots' provider sessions. Each bot's messages go
 * out one at a time in queue order; bots drain concurrently. A failed send is rescheduled with
 * backoff and, once the delays are used up, marked failed for good. Messages of a bot that is not
 * connected wait (the outbox's `holding`) until it is.
 *
 * A claim is a lease rather than a mark a start-up sweep resets: a sweep cannot tell a message
 * whose sender died from one another instance is sending right now, and would send that one
 * twice. A lapsed lease needs no such knowledge, and the attempt fence on the reports keeps a slow
 * sender from overwriting the outcome of the claim that replaced it. A message whose sender died
 * after the provider took it but before it was marked sent goes out again: delivery is at least
 * once.
 */
export function createOutboxSender(options: OutboxSenderOptions) {
  const clock = options.clock ?? Date.now;
  const delays = options.retryDelaysMs ?? DEFAULT_OUTBOX_RETRY_DELAYS_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  const log = options.logger.child({ scope: 'outbox' });
  const stats = { sent: 0, retried: 0, failed: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let running = false;
  let again = false;
  let pumping: Promise<void> | null = null;
  let poller: NodeJS.Timeout | undefined;

  function connected(botId: string): Pick<ProviderSession, 'send'> | undefined {
    try {
      return options.bots.state(botId) === 'connected' ? options.bots.session(botId) : undefined;
    } catch {
      return undefined; // deleted meanwhile
    }
  }

  async function drain(botId: string): Promise<void> {
    for (;;) {
      const session = connected(botId);
      if (session === undefined || !running) return;
      const message = await options.outbox.claimDue(botId, options.owner, new Date(clock()), leaseMs);
      if (message === null) return;
      try {
        const { providerMessageId } = await session.send(message.to, message.text);
        if (!(await options.outbox.markSent(message.id, message.attempt, new Date(clock())))) {
          log.warn({ botId, outboxId: message.id, attempt: message.attempt }, 'sent, but the claim had lapsed or the message was deleted; report discarded');
        }
        stats.sent += 1;
        options.onSent?.(message, providerMessageId);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const delay = delays[message.attempt - 1];
        const retryAt = delay === undefined ? null : new Date(clock() + delay);
        await options.outbox.markFailed(message.id, message.attempt, error, retryAt, new Date(clock()));
        if (delay === undefined) {
          stats.failed += 1;
          log.warn({ botId, outboxId: message.id, attempt: message.attempt, error }, 'outbound message failed for good');
        } else {
          stats.retried += 1;
          log.info({ botId, outboxId: message.id, attempt: message.attempt, retryInMs: delay, error }, 'outbound message will be retried');
          wakeIn(delay);
        }
        options.onFailed?.(message, error, delay === undefined);
        // The session just failed; the rest of this bot's queue waits for the next round.
        return;
      }
    }
  }

  async function pumpLoop(): Promise<void> {
    do {
      again = false;
      await Promise.all(
        options.bots.ids().map((botId) => drain(botId).catch((err: unknown) => log.error({ err, botId }, 'draining the outbox failed'))),
      );
    } while (again && running);
  }

  function pump(): void {
    if (!running) return;
    if (pumping !== null) {
      again = true;
      return;
    }
    pumping = pumpLoop().finally(() => {
      pumping = null;
    });
  }

  function wakeIn(ms: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      pump();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  return {
    stats,
    /** A message was queued or a bot connected: look for work now. */
    wake: pump,
    start(): void {
      running = true;
      poller = setInterval(pump, options.pollMs ?? 1000);
      poller.unref();
      pump();
    },
    /** Stops picking up work and waits for sends in flight. */
    async stop(): Promise<void> {
      running = false;
      clearInterval(poller);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await pumping;
    },
  };
}

export type OutboxSender = ReturnType<typeof createOutboxSender>;
