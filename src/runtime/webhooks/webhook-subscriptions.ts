import { ParleyError } from '../../domain/errors.ts';
import { WEBHOOK_EVENT_FILTERS, wantsEvent, webhookSecretProblem, webhookUrlProblem } from '../../domain/webhook-events.ts';
import type { WebhookEventType } from '../../domain/webhook-events.ts';
import type { Logger } from '../../logging/logger.ts';
import type { WebhookUrlPolicy } from '../../ports/webhook-sender.port.ts';
import type { WebhookSubscription, WebhookSubscriptionStore } from '../../ports/webhook-store.port.ts';
import { generateSecret, newSubscriptionId } from './webhook-signer.ts';

/** What an operator asks to subscribe. */
export interface SubscriptionRequest {
  readonly url: string;
  readonly events: readonly string[];
  /** Generated when absent. */
  readonly secret?: string;
}

export interface SubscriptionsDeps {
  readonly store: WebhookSubscriptionStore;
  readonly policy: WebhookUrlPolicy;
  readonly logger: Logger;
  readonly clock: () => number;
  /** How often the cache is read again, for subscriptions other instances made or removed. */
  readonly refreshMs: number;
}

/** A subscription as its creation answers it: with the secret it was given or got. */
export type CreatedSubscription = WebhookSubscription & { readonly secret: string };

const invalid = (field: string, problem: string): ParleyError => ParleyError.of('VALIDATION_FAILED', { field: `body.${field}`, problem }, { details: { field } });

/**
 * The subscriptions, and a copy of them in memory so publishing an event costs no read (and
 * nothing at all when nobody subscribed). The copy is replaced after every change made here and
 * read again every `refreshMs` for changes made by other instances.
 */
export function createSubscriptions(deps: SubscriptionsDeps) {
  const log = deps.logger.child({ scope: 'webhooks' });
  let cached: readonly WebhookSubscription[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Reads may overlap (a refresh, a change made here): the one started last wins, so a change is
  // never hidden by an older read that finished after it.
  let started = 0;
  let applied = 0;

  async function reload(): Promise<readonly WebhookSubscription[]> {
    const mine = ++started;
    const all = await deps.store.list();
    if (mine > applied) {
      applied = mine;
      cached = all;
    }
    return cached ?? all;
  }

  const current = async (): Promise<readonly WebhookSubscription[]> => cached ?? (await reload());

  return {
    /** Subscriptions that want events of `type`; read from memory once loaded. */
    async matching(type: WebhookEventType): Promise<readonly WebhookSubscription[]> {
      return (await current()).filter((s) => wantsEvent(s.events, type));
    },
    /**
     * Validates and stores a subscription; resolves with it, its secret included (the only time it
     * is shown). A URL the address policy refuses is WEBHOOK_URL_REFUSED.
     */
    async subscribe(request: SubscriptionRequest): Promise<CreatedSubscription> {
      const urlProblem = webhookUrlProblem(request.url);
      if (urlProblem !== null) throw invalid('url', urlProblem);
      const events = [...new Set(request.events)];
      const unknown = events.find((e) => !(WEBHOOK_EVENT_FILTERS as readonly string[]).includes(e));
      if (events.length === 0) throw invalid('events', 'must name at least one event');
      if (unknown !== undefined) throw invalid('events', `${JSON.stringify(unknown)} is not an event (${WEBHOOK_EVENT_FILTERS.join(', ')})`);
      const secretProblem = request.secret === undefined ? null : webhookSecretProblem(request.secret);
      if (secretProblem !== null) throw invalid('secret', secretProblem);
      await deps.policy.check(request.url);
      const subscription = { id: newSubscriptionId(), url: request.url, events, secret: request.secret ?? generateSecret(), createdAt: new Date(deps.clock()) };
      let created: WebhookSubscription;
      try {
        created = await deps.store.create(subscription);
      } catch (err) {
        // A write whose reply was lost may have landed: then it is this subscription, under its new id.
        const landed = await deps.store.get(subscription.id).catch(() => null);
        if (landed === null || landed.secret !== subscription.secret) throw err;
        created = landed;
      }
      await reload().catch((err: unknown) => log.warn({ err }, 'webhook subscriptions could not be read again'));
      log.info({ subscriptionId: created.id, events }, 'webhook subscription created');
      return { ...created, secret: subscription.secret };
    },
    list: (): Promise<WebhookSubscription[]> => deps.store.list(),
    get: (id: string): Promise<WebhookSubscription | null> => deps.store.get(id),
    /** Removes the subscription; its deliveries are the caller's to remove. */
    async remove(id: string): Promise<boolean> {
      let removed: boolean;
      try {
        removed = await deps.store.delete(id);
      } catch (err) {
        // A delete whose reply was lost may have landed: gone is what was asked for.
        if ((await deps.store.get(id).catch(() => undefined)) !== null) throw err;
        removed = true;
      }
      await reload().catch((err: unknown) => log.warn({ err }, 'webhook subscriptions could not be read again'));
      if (removed) log.info({ subscriptionId: id }, 'webhook subscription removed');
      return removed;
    },
    start(): void {
      clearInterval(timer);
      timer = setInterval(() => void reload().catch((err: unknown) => log.warn({ err }, 'webhook subscriptions could not be read again')), deps.refreshMs);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
    },
    count: (): number => cached?.length ?? 0,
  };
}

export type Subscriptions = ReturnType<typeof createSubscriptions>;
