import type { Store } from '../../src/ports/store.port.ts';
import { CORRESPONDENT_QUEUE_MACHINE_VERSION } from '../../machines/correspondent-queue.machine.ts';
import { correspondentQueueModel } from './correspondent-queue.model.ts';
import { persistedActorTarget } from './runtime-target.ts';

import type { CorrespondentQueueEffects } from '../../machines/correspondent-queue.machine.ts';
import type { EffectDurability } from './runtime-target.ts';

// Every effect is stored and acknowledged here, so the mechanism is walked on every transition.
const effects: EffectDurability<CorrespondentQueueEffects> = {
  notifyListeners: true, messagesEvicted: true, logOverLimit: true, duplicateIgnored: true, finalizeMissed: true, messagePopped: true, limitsRejected: true,
};
const runtime = { kind: 'correspondent-queue', machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION, effects } as const;

/** The queue's runtime targets: the persisted actor as it runs, and restored from the store after every step. */
export function queueRuntimeTargets(which: 'both' | 'live' | 'restored') {
  return (store: () => Store) => {
    const live = ['persisted actor on the store', () => persistedActorTarget(correspondentQueueModel, { ...runtime, store: store(), restoreEachStep: false })] as const;
    const restored = ['persisted actor on the store, restored from it after every step', () => persistedActorTarget(correspondentQueueModel, { ...runtime, store: store(), restoreEachStep: true })] as const;
    return which === 'both' ? [live, restored] : which === 'live' ? [live] : [restored];
  };
}
