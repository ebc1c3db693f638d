import { describeModel } from './describe-model.ts';
import { outboxDeliveryModel } from './outbox-delivery.model.ts';

// Walked on the machine alone, and persisted and restored after every step; no runtime hosts it yet.
describeModel({
  model: outboxDeliveryModel,
  storePrefix: 'parley_model_outbox',
  runtimePaths: ['shortest', 'transitions', 'definition'],
  runtimeTargets: () => [],
});
