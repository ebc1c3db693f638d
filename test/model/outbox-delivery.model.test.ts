import type { OutboxDeliveryEffects } from '../../machines/outbox-delivery.machine.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createOutbox } from '../../src/runtime/outbox/outbox.ts';
import { describeModel } from './describe-model.ts';
import { outboxDeliveryModel } from './outbox-delivery.model.ts';
import { rowActorTarget } from './row-actor-target.ts';
import type { EffectDurability } from './runtime-target.ts';

const effects: EffectDurability<OutboxDeliveryEffects> = { recordSent: true, recordFailed: true, discardLateReport: false };
const { deliveryId: id, botId, correspondentId, text, seq } = outboxDeliveryModel.input;
const row = { id, botId, kind: 'text', line: `${botId}|${correspondentId}`, lineSeq: seq, correspondentId, text, seq };
const logger = createLogger('silent');

// Every step crosses the store, through the host the outbox itself runs (its effects recorded instead of run).
describeModel({
  model: outboxDeliveryModel,
  storePrefix: 'parley_model_outbox',
  runtimePaths: ['shortest', 'transitions', 'definition'],
  runtimeTargets: (store) => [
    [
      'outbox host on the store, which reloads the stored message for every step',
      () => rowActorTarget(outboxDeliveryModel, {
        queue: store().outbox,
        effects,
        row,
        host: (table) => createOutbox({ store: store().outbox, bots: { connectedSession: () => undefined, connectedBotIds: () => [] }, history: { record: async () => seq, settle: async () => {} }, owner: 'model', logger, effects: table }).host,
      }),
    ],
  ],
});
