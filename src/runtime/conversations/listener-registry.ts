/** A message as listeners (the AI auto-reply service, webhooks, tests) see it. */
export interface DeliveredMessage {
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly content: string;
  readonly source: string;
  readonly mediaJobId: string | null;
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
 * never a placeholder (I3). A listener's failure is reported, never propagated into the queue.
 * Within one process a delivery already made is not made again.
 */
export interface ListenerRegistry {
  add(listener: MessageListener): () => void;
  notify(message: DeliveredMessage): Promise<void>;
}

export function createListenerRegistry(onError: (err: unknown, message: DeliveredMessage) => void): ListenerRegistry {
  const listeners = new Set<MessageListener>();
  // Recent deliveries, oldest first; bounded so a long-running process does not grow.
  const delivered = new Set<string>();
  return {
    add(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async notify(message) {
      if (delivered.has(message.deliveryId)) return;
      delivered.add(message.deliveryId);
      if (delivered.size > 10_000) delivered.delete(delivered.values().next().value ?? '');
      await Promise.all(
        [...listeners].map(async (listener) => {
          try {
            await listener(message);
          } catch (err) {
            onError(err, message);
          }
        }),
      );
    },
  };
}
