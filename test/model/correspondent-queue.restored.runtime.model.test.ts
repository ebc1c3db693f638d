import { correspondentQueueModel } from './correspondent-queue.model.ts';
import { queueRuntimeTargets } from './correspondent-queue.runtime.ts';
import { describeModelOnRuntime } from './describe-model.ts';

describeModelOnRuntime({
  model: correspondentQueueModel,
  storePrefix: 'parley_model_queue_restored',
  runtimePaths: ['transitions'],
  runtimeTargets: queueRuntimeTargets('restored'),
});
