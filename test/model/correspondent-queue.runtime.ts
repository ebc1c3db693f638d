import type { Db } from 'mongodb';
import type { Store } from '../../src/ports/store.port.ts';
import { CORRESPONDENT_QUEUE_MACHINE_VERSION } from '../../machines/correspondent-queue.machine.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createQueueCodec, queueMigrations } from '../../src/runtime/conversations/queue-codec.ts';
import { correspondentQueueModel } from './correspondent-queue.model.ts';
import { queueHistory } from './queue-history.ts';
import { persistedActorTarget } from './runtime-target.ts';

import type { CorrespondentQueueEffects } from '../../machines/correspondent-queue.machine.ts';
import type { EffectDurability } from './runtime-target.ts';

// Every effect is stored and acknowledged here, so the mechanism is walked on every transition.
const effects: EffectDurability<CorrespondentQueueEffects> = {
  notifyListeners: true, messagesEvicted: true, logOverLimit: true, duplicateIgnored: true, finalizeMissed: true, messagePopped: true, limitsRejected: true,
};
const log = createLogger('silent');

/**
 * The queue persisted as the runtime persists it: slim snapshots whose window is rebuilt from the
 * history rows ingestion would have written, which the target writes before each step.
 */
function queueTarget(store: Store, db: () => Db, restoreEachStep: boolean) {
  const history = queueHistory(() => store, db, correspondentQueueModel.input.botId);
  return persistedActorTarget(correspondentQueueModel, {
    kind: 'correspondent-queue', machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION, effects, store, restoreEachStep,
    codec: createQueueCodec(store.history, log), migrations: queueMigrations(log),
    prepare: history.prepare, cleanUp: history.cleanUp,
  });
}

/** The queue's runtime targets: the persisted actor as it runs, and restored from the store after every step. */
export function queueRuntimeTargets(which: 'both' | 'live' | 'restored') {
  return (store: () => Store, db: () => Db) => {
    const live = ['persisted actor on the store', () => queueTarget(store(), db, false)] as const;
    const restored = ['persisted actor on the store, restored from it after every step', () => queueTarget(store(), db, true)] as const;
    return which === 'both' ? [live, restored] : which === 'live' ? [live] : [restored];
  };
}
