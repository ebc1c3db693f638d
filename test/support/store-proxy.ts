import type { Store } from '../../src/ports/store.port.ts';

/** Runs one store call: `label` names it (`mediaJobs.claim`), `call` performs it on the real store. */
export type StoreCall = (label: string, args: unknown[], call: () => Promise<unknown>) => Promise<unknown>;

/**
 * The store with every repository call passed through `intercept`, which decides whether and how
 * the real call happens (the crash and fault test stores). `ping` is the store's own unless given.
 */
export function interceptStore(store: Store, intercept: StoreCall, ping: () => Promise<void> = () => store.ping()): Store {
  const wrap = <T extends object>(name: string, repo: T): T => interceptRepository(name, repo, intercept);
  return {
    actors: wrap('actors', store.actors),
    mediaJobs: wrap('mediaJobs', store.mediaJobs),
    history: wrap('history', store.history),
    bots: wrap('bots', store.bots),
    outbox: wrap('outbox', store.outbox),
    authState: wrap('authState', store.authState),
    webhookSubscriptions: wrap('webhookSubscriptions', store.webhookSubscriptions),
    webhookDeliveries: wrap('webhookDeliveries', store.webhookDeliveries),
    ownership: wrap('ownership', store.ownership),
    instances: wrap('instances', store.instances),
    simulator: wrap('simulator', store.simulator),
    ping,
    close: async () => {},
  };
}

/**
 * One repository (or the media store, `media.put`) with every method call passed through
 * `intercept`, but those named in `untouched` (the media store's listing iterator, which is no
 * promise and writes nothing).
 */
export function interceptRepository<T extends object>(name: string, repo: T, intercept: StoreCall, untouched: readonly string[] = []): T {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || untouched.includes(String(prop))) return value;
      const label = `${name}.${String(prop)}`;
      return (...args: unknown[]) => intercept(label, args, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}
