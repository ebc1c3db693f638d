import { BOT_MACHINE_VERSION } from '../../machines/bot.machine.ts';
import { botModel } from './bot.model.ts';
import { describeModel } from './describe-model.ts';
import { persistedActorTarget } from './runtime-target.ts';

import type { BotEffects } from '../../machines/bot.machine.ts';
import type { EffectDurability } from './runtime-target.ts';

// Every effect is stored and acknowledged here, so the mechanism is walked on every transition.
const effects: EffectDurability<BotEffects> = {
  connectProvider: true, disconnectProvider: true, publishQr: true, reapMediaJobs: true, resumeOutbox: true, holdOutbox: true,
  scheduleReconnect: true, cancelReconnect: true, holdMediaJobs: true, flushIngestion: true, discardCredentials: true, announceState: true,
};
const runtime = { kind: 'bot', machineVersion: BOT_MACHINE_VERSION, effects } as const;

// Every step crosses the store; the bot's 74 transition paths (319 steps) still take well under a second.
describeModel({
  model: botModel,
  storePrefix: 'parley_model_bot',
  runtimePaths: ['shortest', 'transitions', 'definition'],
  runtimeTargets: (store) => [
    ['persisted actor on the store', () => persistedActorTarget(botModel, { ...runtime, store: store(), restoreEachStep: false })],
    ['persisted actor on the store, restored from it after every step', () => persistedActorTarget(botModel, { ...runtime, store: store(), restoreEachStep: true })],
  ],
});
