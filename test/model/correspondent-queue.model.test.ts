import { correspondentQueueModel } from './correspondent-queue.model.ts';
import { queueRuntimeTargets } from './correspondent-queue.runtime.ts';
import { describeModel } from './describe-model.ts';

// The 2589 transition paths (13,711 steps, each crossing the store) walk the runtime in
// correspondent-queue.*.runtime.model.test.ts, one file per target, so they run on other workers.
describeModel({
  model: correspondentQueueModel,
  storePrefix: 'parley_model_queue',
  runtimePaths: ['shortest', 'definition'],
  runtimeTargets: queueRuntimeTargets('both'),
});
