/** A message as listeners (the AI auto-reply service, webhooks, tests) see it. */
export interface DeliveredMessage {
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly content: string;
  readonly source: string;
  readonly mediaJobId: string | null;
  /** The group chat it was written in, `null` in a one-to-one chat. */
  readonly group: string | null;
  /** True when the message reached listeners through crash recovery rather than live arrival. */
  readonly recovered: boolean;
  /**
   * Names this notification. A crash between notifying and recording that it was done notifies
   * again after restart with the same id (`recovered: true`): a listener that acts on a message
   * once dedupes by it. Differs between a first result and the result of an operator retry.
   */
  readonly deliveryId: string;
}

export type MessageListener = (message: DeliveredMessage) => void | Promise<void>;

/**
 * Listeners for finalized messages: text at arrival, media once its placeholder is finalized,
 * never a placeholder (I3). A listener's failure is reported and `notify` then rejects, so the
 * queue's durable notification stays unacknowledged and is made again (after its retries, at the
 * next start): a listener that must not lose a message (the AI reply, event webhooks) makes what
 * it does durable before it returns. Within one process a listener that took a delivery is not
 * given it again; one that failed is.
 */
export interface ListenerRegistry {
  add(listener: MessageListener): () => void;
  notify(message: DeliveredMessage): Promise<void>;
}

export function createListenerRegistry(onError: (err: unknown, message: DeliveredMessage) => void): ListenerRegistry {
  const listeners = new Set<MessageListener>();
  // Per listener, the deliveries it took, oldest first; bounded so a long-running process does not grow.
  const taken = new WeakMap<MessageListener, Set<string>>();
  const tookIt = (listener: MessageListener, deliveryId: string): void => {
    const ids = taken.get(listener) ?? new Set<string>();
    ids.add(deliveryId);
    if (ids.size > 10_000) ids.delete(ids.values().next().value ?? '');
    taken.set(listener, ids);
  };
  return {
    add(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async notify(message) {
      const failures: unknown[] = [];
      await Promise.all(
        [...listeners].map(async (listener) => {
          if (taken.get(listener)?.has(message.deliveryId) === true) return;
          try {
            await listener(message);
            tookIt(listener, message.deliveryId);
          } catch (err) {
            onError(err, message);
            failures.push(err);
          }
        }),
      );
      if (failures.length > 0) throw failures[0];
    },
  };
}
