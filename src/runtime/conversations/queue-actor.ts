import { CORRESPONDENT_QUEUE_MACHINE_VERSION, correspondentQueueMachine } from '../../../machines/correspondent-queue.machine.ts';
import type { CorrespondentQueueEffects } from '../../../machines/correspondent-queue.machine.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Store } from '../../ports/store.port.ts';
import type { ActorFence, PersistedActor, PersistedActorOptions, PersistenceStats } from '../actors/persisted-actor.ts';
import type { InspectionHub } from '../actors/inspection-hub.ts';
import type { ListenerRegistry } from './listener-registry.ts';
import { createQueueCodec, queueMigrations } from './queue-codec.ts';
import { queueEffects } from './queue-effects.ts';

export type QueueActor = PersistedActor<typeof correspondentQueueMachine>;

export const queueActorId = (botId: string, correspondentId: string): string => `${botId}|${correspondentId}`;

export interface QueueActorDeps {
  readonly store: Store;
  readonly listeners: ListenerRegistry;
  readonly inspection: InspectionHub;
  readonly stats: PersistenceStats & { duplicates: number };
  readonly log: Logger;
  readonly coalesceMs: number;
  /** Ownership fencing of every queue write; unfenced when absent. */
  readonly fence?: ActorFence;
}

/** How every queue actor is persisted: slim snapshots decoded from history, version 1 migrated. */
export function queueActorOptions(deps: QueueActorDeps): PersistedActorOptions<typeof correspondentQueueMachine, CorrespondentQueueEffects> {
  const { log } = deps;
  return {
    machine: correspondentQueueMachine,
    machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION,
    store: deps.store.actors,
    effects: queueEffects({ listeners: deps.listeners, stats: deps.stats, log }),
    inspect: deps.inspection.inspect,
    stats: deps.stats,
    coalesceMs: deps.coalesceMs,
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'queue effect failed') },
    codec: createQueueCodec(deps.store.history, log),
    migrations: queueMigrations(log),
    ...(deps.fence === undefined ? {} : { fence: deps.fence }),
  };
}
