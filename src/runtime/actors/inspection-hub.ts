import type { InspectionEvent } from 'xstate';

/** A subscriber to every actor's inspection events (the /inspect stream, Stately's inspector, tests). */
export type InspectionSubscriber = (event: InspectionEvent) => void;

/**
 * Fans one `inspect` callback out to many subscribers. Every actor the runtime creates gets
 * `hub.inspect`, so subscribing here sees the whole system; a failing subscriber is dropped
 * rather than allowed to break a transition.
 */
export interface InspectionHub {
  readonly inspect: (event: InspectionEvent) => void;
  subscribe(subscriber: InspectionSubscriber): () => void;
  /**
   * Says that every actor of a bot is gone for good (the bot was deleted). XState reports actors
   * that stop, not actors that cease to exist, so views holding actors learn it here.
   */
  botRemoved(botId: string): void;
  onBotRemoved(listener: (botId: string) => void): () => void;
}

export function createInspectionHub(onSubscriberError?: (err: unknown) => void): InspectionHub {
  const subscribers = new Set<InspectionSubscriber>();
  const removals = new Set<(botId: string) => void>();
  function fanOut<T>(targets: Set<(value: T) => void>, value: T): void {
    for (const target of targets) {
      try {
        target(value);
      } catch (err) {
        targets.delete(target);
        onSubscriberError?.(err);
      }
    }
  }
  return {
    inspect: (event) => fanOut(subscribers, event),
    subscribe(subscriber) {
      subscribers.add(subscriber);
      return () => subscribers.delete(subscriber);
    },
    botRemoved: (botId) => fanOut(removals, botId),
    onBotRemoved(listener) {
      removals.add(listener);
      return () => removals.delete(listener);
    },
  };
}
