import type { WebhookDeliveryEffects } from '../../machines/webhook-delivery.machine.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createWebhooks } from '../../src/runtime/webhooks/webhooks.ts';
import { describeModel } from './describe-model.ts';
import { rowActorTarget } from './row-actor-target.ts';
import type { EffectDurability } from './runtime-target.ts';
import { webhookDeliveryModel } from './webhook-delivery.model.ts';

const effects: EffectDurability<WebhookDeliveryEffects> = { recordOutcome: false, discardLateReport: false };
const { deliveryId: id, subscriptionId, eventId, eventType } = webhookDeliveryModel.input;
const row = { id, botId: subscriptionId, kind: eventType, line: null, lineSeq: null, subscriptionId, eventId, eventType, body: '{"type":"message.received"}', eventAt: new Date(0) };
const logger = createLogger('silent');

// Every step crosses the store, through the host webhooks themselves run (their effects recorded instead of run).
describeModel({
  model: webhookDeliveryModel,
  storePrefix: 'parley_model_webhook',
  runtimePaths: ['shortest', 'transitions', 'definition'],
  runtimeTargets: (store) => [
    [
      'webhook host on the store, which reloads the stored delivery for every step',
      () => rowActorTarget(webhookDeliveryModel, {
        queue: store().webhookDeliveries,
        effects,
        row,
        host: (table) => createWebhooks({
          subscriptions: store().webhookSubscriptions, deliveries: store().webhookDeliveries, owner: 'model', logger, effects: table,
          sender: { send: async () => ({ outcome: 'fail', status: null, error: 'not in the model' }) },
        }).host,
      }),
    ],
  ],
});
