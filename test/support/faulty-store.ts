import type { Store } from '../../src/ports/store.port.ts';
import type { MediaStore } from '../../src/ports/media-store.port.ts';
import { interceptRepository, interceptStore } from './store-proxy.ts';
import type { StoreCall } from './store-proxy.ts';

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
  const intercept: StoreCall = async (label, args, call) => {
    calls.push(label);
    const fault = faults.find((f) => !f.fired && f.label === label && f.when(args));
    if (fault?.at === 'before') {
      fault.fired = true;
      throw new TransientStoreError(label);
    }
    const result = await call();
    if (fault?.at === 'after') {
      fault.fired = true;
      throw new TransientStoreError(label);
    }
    return result;
  };
  const wrapped = interceptStore(store, intercept);
  const plan = (at: Fault['at']) => (label: string, when: Fault['when'] = () => true): Fault => {
    const fault: Fault = { label, when, at, fired: false };
    faults.push(fault);
    return fault;
  };
  return {
    store: wrapped,
    /** The media store with the same planned faults (`media.put`, `media.delete`). */
    media: (files: MediaStore): MediaStore => interceptRepository('media', files, intercept, ['list']),
    /** The next matching call fails without reaching the store. */
    failOnce: plan('before'),
    /** The next matching call is applied, then its caller gets an error (a lost reply). */
    landThenFail: plan('after'),
    calls,
  };
}
