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
}

export type MessageListener = (message: DeliveredMessage) => void | Promise<void>;

/**
 * Listeners for finalized messages: text at arrival, media once its placeholder is finalized,
 * never a placeholder (I3). A listener's failure is reported, never propagated into the queue.
 */
export interface ListenerRegistry {
  add(listener: MessageListener): () => void;
  notify(message: DeliveredMessage): Promise<void>;
}

export function createListenerRegistry(onError: (err: unknown, message: DeliveredMessage) => void): ListenerRegistry {
  const listeners = new Set<MessageListener>();
  return {
    add(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async notify(message) {
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
