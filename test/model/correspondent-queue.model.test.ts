import { CORRESPONDENT_QUEUE_MACHINE_VERSION } from '../../machines/correspondent-queue.machine.ts';
import { correspondentQueueModel } from './correspondent-queue.model.ts';
import { describeModel } from './describe-model.ts';
import { persistedActorTarget } from './runtime-target.ts';

const model = correspondentQueueModel;
const runtime = { kind: 'correspondent-queue', machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION } as const;

// Every step crosses the store, so the runtime targets take the shortest and definition-cover
// paths: the 2589 transition paths (13,711 steps) take about 13 s per target.
describeModel({
  model,
  storePrefix: 'parley_model_queue',
  runtimePaths: ['shortest', 'definition'],
  runtimeTargets: (store) => [
    ['persisted actor on the store', () => persistedActorTarget(model, { ...runtime, store: store(), restoreEachStep: false })],
    ['persisted actor on the store, restored from it after every step', () => persistedActorTarget(model, { ...runtime, store: store(), restoreEachStep: true })],
  ],
});
