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
}

export function createInspectionHub(onSubscriberError?: (err: unknown) => void): InspectionHub {
  const subscribers = new Set<InspectionSubscriber>();
  return {
    inspect(event) {
      for (const subscriber of subscribers) {
        try {
          subscriber(event);
        } catch (err) {
          subscribers.delete(subscriber);
          onSubscriberError?.(err);
        }
      }
    },
    subscribe(subscriber) {
      subscribers.add(subscriber);
      return () => subscribers.delete(subscriber);
    },
  };
}
