import type { Store } from '../../src/ports/store.port.ts';

/** One planned transient fault: the next call of `label` whose arguments `when` accepts fails once. */
interface Fault {
  readonly label: string;
  readonly when: (args: readonly unknown[]) => boolean;
  /** `before`: the call never reaches the store. `after`: it is applied, and its reply is lost. */
  readonly at: 'before' | 'after';
  fired: boolean;
}

export class TransientStoreError extends Error {
  constructor(label: string) {
    super(`transient fault injected into ${label}`);
  }
}

/**
 * Wraps a store so chosen calls fail once and every other call goes through, as a network blip,
 * a primary step-down or a timeout would (race (i)). Unlike a crash, the process goes on: the
 * error-then-continue paths run.
 */
export function faultyStore(store: Store) {
  const faults: Fault[] = [];
  const calls: string[] = [];
  const wrap = <T extends object>(name: string, repo: T): T =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const label = `${name}.${String(prop)}`;
        return async (...args: unknown[]) => {
          calls.push(label);
          const fault = faults.find((f) => !f.fired && f.label === label && f.when(args));
          if (fault?.at === 'before') {
            fault.fired = true;
            throw new TransientStoreError(label);
          }
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (fault?.at === 'after') {
            fault.fired = true;
            throw new TransientStoreError(label);
          }
          return result;
        };
      },
    });
  const wrapped: Store = {
    actors: wrap('actors', store.actors),
    mediaJobs: wrap('mediaJobs', store.mediaJobs),
    history: wrap('history', store.history),
    bots: wrap('bots', store.bots),
    outbox: wrap('outbox', store.outbox),
    authState: wrap('authState', store.authState),
    ping: () => store.ping(),
    close: async () => {},
  };
  const plan = (at: Fault['at']) => (label: string, when: Fault['when'] = () => true): Fault => {
    const fault: Fault = { label, when, at, fired: false };
    faults.push(fault);
    return fault;
  };
  return {
    store: wrapped,
    /** The next matching call fails without reaching the store. */
    failOnce: plan('before'),
    /** The next matching call is applied, then its caller gets an error (a lost reply). */
    landThenFail: plan('after'),
    calls,
  };
}
