import { assign, enqueueActions, setup } from 'xstate';
import { effects } from './effect.ts';
import { enforceLimits, measureOverLimit } from '../src/domain/queue-eviction.ts';
import { validateLimits } from '../src/domain/queue-limits.ts';
import { emptyWindow } from '../src/domain/queue-message.ts';
import { addMediaPlaceholder, addText, finalizeMedia, findByProviderMessageId, injectPlaceholder, popReady } from '../src/domain/queue-window.ts';
import { evictionEffects } from './correspondent-queue.types.ts';
import type { CorrespondentQueueContext, CorrespondentQueueEffects, CorrespondentQueueEvent, CorrespondentQueueInput } from './correspondent-queue.types.ts';

/** The machine's input, context, events and effect parameter types. */
export type * from './correspondent-queue.types.ts';

/** Stored with every correspondent-queue snapshot; bump when a stored snapshot would no longer restore. */
export const CORRESPONDENT_QUEUE_MACHINE_VERSION = 2;

const duplicateOf = (context: CorrespondentQueueContext, event: CorrespondentQueueEvent) => {
  if (event.type !== 'message.text-received' && event.type !== 'message.media-received') return undefined;
  const id = event.message.providerMessageId;
  return id === null ? undefined : findByProviderMessageId(context.window, id);
};

/**
 * The live window of one (bot, correspondent) conversation. Every event applies one pure
 * window operation from the domain and reports its outcome as effects: `notifyListeners` for
 * text at arrival and media at finalization only (never for a placeholder, never for the bot's
 * own messages), `messagesEvicted` and `logOverLimit` for limit passes.
 */
export const correspondentQueueMachine = setup({
  types: {} as { context: CorrespondentQueueContext; events: CorrespondentQueueEvent; input: CorrespondentQueueInput },
  guards: {
    isDuplicate: ({ context, event }) => duplicateOf(context, event) !== undefined,
    hasPlaceholder: ({ context, event }) =>
      event.type === 'media.finalized' && context.window.messages.some((m) => m.mediaJobId === event.mediaJobId),
    areLimitsValid: ({ event }) => event.type === 'limits.changed' && validateLimits(event.limits).length === 0,
  },
  actions: {
    ...effects<CorrespondentQueueEffects>({
      notifyListeners: true,
      messagesEvicted: true,
      logOverLimit: true,
      duplicateIgnored: true,
      finalizeMissed: true,
      messagePopped: true,
      limitsRejected: true,
    }),
    ignoreDuplicate: enqueueActions(({ context, event, enqueue }) => {
      const original = duplicateOf(context, event);
      if (original === undefined || original.providerMessageId === null) return;
      const { botId, correspondentId } = context;
      enqueue({ type: 'duplicateIgnored', params: { botId, correspondentId, providerMessageId: original.providerMessageId, messageId: original.id } });
    }),
    acceptQuietly: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'message.recorded') return;
      const added = addText(context.window, context.limits, event.message, event.now);
      enqueue.assign({ window: added.window });
      for (const report of evictionEffects(context, added.evicted, added.overLimit)) enqueue(report);
    }),
    acceptText: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'message.text-received') return;
      const added = addText(context.window, context.limits, event.message, event.now);
      const { botId, correspondentId } = context;
      enqueue.assign({ window: added.window });
      enqueue({ type: 'notifyListeners', params: { botId, correspondentId, message: added.message } });
      for (const report of evictionEffects(context, added.evicted, added.overLimit)) enqueue(report);
    }),
    acceptMedia: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'message.media-received') return;
      const added = addMediaPlaceholder(context.window, context.limits, event.message, event.now);
      enqueue.assign({ window: added.window });
      for (const report of evictionEffects(context, added.evicted, added.overLimit)) enqueue(report);
    }),
    finalizePlaceholder: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'media.finalized') return;
      const done = finalizeMedia(context.window, context.limits, event.mediaJobId, event.content, event.now);
      if (!done.found) return;
      enqueue.assign({ window: done.window });
      enqueue({ type: 'notifyListeners', params: { botId: context.botId, correspondentId: context.correspondentId, message: done.message } });
      for (const report of evictionEffects(context, done.evicted, done.overLimit)) enqueue(report);
    }),
    reportMissedFinalize: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'media.finalized') return;
      enqueue({ type: 'finalizeMissed', params: { botId: context.botId, correspondentId: context.correspondentId, mediaJobId: event.mediaJobId } });
    }),
    inject: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'placeholder.injected') return;
      const injected = injectPlaceholder(context.window, context.limits, event.message);
      const pass = enforceLimits(injected.window, context.limits, event.now);
      enqueue.assign({ window: pass.window });
      for (const report of evictionEffects(context, pass.evicted, pass.overLimit)) enqueue(report);
    }),
    evict: enqueueActions(({ context, event, enqueue }) => {
      if (!('now' in event)) return;
      const pass = enforceLimits(context.window, context.limits, event.now);
      enqueue.assign({ window: pass.window });
      for (const report of evictionEffects(context, pass.evicted, pass.overLimit)) enqueue(report);
    }),
    pop: enqueueActions(({ context, enqueue }) => {
      const popped = popReady(context.window);
      if (popped.message === null) return;
      enqueue.assign({ window: popped.window });
      const { botId, correspondentId } = context;
      enqueue({ type: 'messagePopped', params: { botId, correspondentId, message: popped.message, skippedPlaceholders: popped.skippedPlaceholders } });
    }),
    applyLimits: assign(({ context, event }) => (event.type === 'limits.changed' ? { limits: event.limits } : { limits: context.limits })),
    rejectLimits: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'limits.changed') return;
      const { botId, correspondentId } = context;
      enqueue({ type: 'limitsRejected', params: { botId, correspondentId, errors: validateLimits(event.limits) } });
    }),
  },
}).createMachine({
  id: 'correspondentQueue',
  context: ({ input }) => ({
    botId: input.botId,
    correspondentId: input.correspondentId,
    limits: input.limits,
    window: input.window ?? emptyWindow(),
  }),
  initial: 'active',
  states: {
    active: {
      on: {
        'message.text-received': [{ guard: 'isDuplicate', actions: 'ignoreDuplicate' }, { actions: 'acceptText' }],
        'message.recorded': { actions: 'acceptQuietly' },
        'message.media-received': [{ guard: 'isDuplicate', actions: 'ignoreDuplicate' }, { actions: 'acceptMedia' }],
        'media.finalized': [{ guard: 'hasPlaceholder', actions: 'finalizePlaceholder' }, { actions: 'reportMissedFinalize' }],
        'placeholder.injected': { actions: 'inject' },
        'queue.evict': { actions: 'evict' },
        'queue.pop-ready': { actions: 'pop' },
        'limits.changed': [{ guard: 'areLimitsValid', actions: ['applyLimits', 'evict'] }, { actions: 'rejectLimits' }],
      },
    },
  },
});

/** Whether the window is over a limit right now (for inspection; limit passes report it as `logOverLimit`). */
export function queueOverLimit(context: CorrespondentQueueContext) {
  return measureOverLimit(context.window, context.limits);
}
