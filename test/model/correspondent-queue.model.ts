import { isDeepStrictEqual } from 'node:util';
import type { SnapshotFrom, StateValue } from 'xstate';
import { correspondentQueueMachine } from '../../machines/correspondent-queue.machine.ts';
import type {
  CorrespondentQueueContext,
  CorrespondentQueueEvent,
  MessagePoppedParams,
  MessagesEvictedParams,
  NotifyListenersParams,
} from '../../machines/correspondent-queue.machine.ts';
import { DAY_MS } from '../../src/domain/queue-limits.ts';
import type { IncomingMessage, QueueLimits, QueueWindow } from '../../src/domain/queue-message.ts';
import { isPlaceholder, sumSizes } from '../../src/domain/queue-message.ts';
import type { MachineModel, Observation, PathInvariants } from './model-types.ts';

const NOW = Date.UTC(2025, 0, 10);
const LATER = NOW + 2 * DAY_MS;
const LIMITS: Record<'roomy' | 'tight', QueueLimits> = {
  roomy: { maxMessages: 3, maxCharacters: 60, maxAgeDays: 1, maxCharactersPerMessage: 30 },
  tight: { maxMessages: 2, maxCharacters: 40, maxAgeDays: 1, maxCharactersPerMessage: 30 },
};
/** Placeholders take job ids from a fixed set, so paths replay identically from any history. */
const JOB_SLOTS = ['job-a', 'job-b'];

const incoming = (content: string, providerMessageId: string | null): IncomingMessage => ({
  content,
  sender: { id: 'c-1@s.whatsapp.net', displayName: 'Ada' },
  source: 'user',
  originatingAt: null,
  group: null,
  providerMessageId,
});

function events(snapshot: SnapshotFrom<typeof correspondentQueueMachine>): CorrespondentQueueEvent[] {
  const { window, limits } = snapshot.context;
  const placeholders = window.messages.filter(isPlaceholder);
  const freeSlot = JOB_SLOTS.find((slot) => !placeholders.some((p) => p.mediaJobId === slot));
  const list: CorrespondentQueueEvent[] = [
    { type: 'message.text-received', message: incoming('hi there', null), now: NOW },
    { type: 'message.text-received', message: incoming('x'.repeat(45), 'wa-1'), now: NOW },
    // The size of 'hi there': the bot's reply takes the same window shapes, so it adds transitions, not states.
    { type: 'message.recorded', message: { ...incoming('bye then', null), source: 'bot', sender: { id: 'bot-1', displayName: null } }, now: NOW },
    ...placeholders.map((p): CorrespondentQueueEvent => ({ type: 'media.finalized', mediaJobId: p.mediaJobId, content: '[Voice message] hello', now: NOW })),
    { type: 'media.finalized', mediaJobId: 'job-unknown', content: '[Image] a cat', now: NOW },
    { type: 'queue.evict', now: NOW },
    { type: 'queue.evict', now: LATER },
    { type: 'queue.pop-ready' },
    { type: 'limits.changed', limits: limits.maxMessages === LIMITS.roomy.maxMessages ? LIMITS.tight : LIMITS.roomy, now: NOW },
    { type: 'limits.changed', limits: { ...LIMITS.roomy, maxMessages: 0 }, now: NOW },
  ];
  if (freeSlot !== undefined) {
    const { content: _, ...rest } = incoming('', null);
    // A slot's provider id repeats once the slot is reused: a replay while the first copy is in the window.
    list.push({ type: 'message.media-received', message: { ...rest, providerMessageId: `wa-${freeSlot}`, mediaJobId: freeSlot, media: { kind: 'voice', mimetype: 'audio/ogg', caption: null, fileName: null } }, now: NOW });
    list.push({
      type: 'placeholder.injected',
      now: NOW,
      message: { ...rest, id: window.nextId + 2, content: '[Image] (processing)', acceptedAt: NOW - 5 * DAY_MS, size: 0, mediaJobId: freeSlot },
    });
  }
  return list;
}

/** The window's shape (job slot, provider id and size of each message) and which limits apply. */
function serializeState(snapshot: { readonly value: StateValue; readonly context: CorrespondentQueueContext }): string {
  const { window, limits } = snapshot.context;
  const shape = window.messages.map((m) => `${m.mediaJobId ?? '-'}:${m.providerMessageId ?? '-'}:${m.size}`);
  return JSON.stringify([snapshot.value, limits.maxMessages, shape]);
}

function checkWindow(window: QueueWindow): void {
  if (window.totalChars !== sumSizes(window.messages)) throw new Error(`I2: totalChars ${window.totalChars} != ${sumSizes(window.messages)}`);
  window.messages.forEach((m, i) => {
    if (m.size !== m.content.length) throw new Error(`size of ${m.id} does not match its content`);
    const prev = window.messages[i - 1];
    if (prev !== undefined && prev.id >= m.id) throw new Error('ids out of order');
    if (m.id >= window.nextId) throw new Error(`I7: id ${m.id} not below nextId ${window.nextId}`);
  });
}

const paramsOf = <T>(o: Observation<CorrespondentQueueContext>, type: string): T[] =>
  o.effects.filter((e) => e.type === type).map((e) => e.params as T);

/** Invariants of one conversation's path: I1, I2, I3 and I7 at every step. */
function invariants(): PathInvariants<CorrespondentQueueEvent, CorrespondentQueueContext> {
  const notified: number[] = [];
  return {
    start: (o) => checkWindow(o.context.window),
    step({ event, before, after }) {
      const prior = before.context.window;
      const next = after.context.window;
      checkWindow(next);
      if (next.nextId < prior.nextId) throw new Error('nextId went back');

      for (const p of paramsOf<MessagesEvictedParams>(after, 'messagesEvicted')) {
        if (p.evicted.some((e) => isPlaceholder(e.message))) throw new Error('I1: a placeholder was evicted');
      }
      for (const p of paramsOf<MessagePoppedParams>(after, 'messagePopped')) if (isPlaceholder(p.message)) throw new Error('I1: a placeholder was popped');
      for (const p of prior.messages.filter(isPlaceholder)) {
        const now = next.messages.find((m) => m.id === p.id);
        const finalized = event.type === 'media.finalized' && event.mediaJobId === p.mediaJobId;
        if (now === undefined || (!finalized && now.mediaJobId !== p.mediaJobId)) throw new Error(`I1: placeholder ${p.id} left the window`);
      }

      const notices = paramsOf<NotifyListenersParams>(after, 'notifyListeners');
      for (const n of notices) {
        if (n.message.mediaJobId !== null) throw new Error('I3: a placeholder notified listeners');
        if (notified.includes(n.message.id)) throw new Error(`I3: message ${n.message.id} notified twice`);
        notified.push(n.message.id);
      }
      // A text is final on arrival (its history row was written before the queue decided): listeners hear it now.
      const acceptedText = event.type === 'message.text-received' && next.nextId > prior.nextId;
      const expectedNotices = acceptedText ? [prior.nextId] : [];
      if (event.type === 'media.finalized' && prior.messages.some((m) => m.mediaJobId === event.mediaJobId)) {
        const message = prior.messages.find((m) => m.mediaJobId === event.mediaJobId);
        expectedNotices.push(message?.id ?? -1);
      }
      if (JSON.stringify(notices.map((n) => n.message.id)) !== JSON.stringify(expectedNotices)) {
        throw new Error(`I3: expected notices for ${expectedNotices}, got ${notices.map((n) => n.message.id)}`);
      }

      const types = after.effects.map((e) => e.type);
      const duplicate =
        (event.type === 'message.text-received' || event.type === 'message.media-received') &&
        event.message.providerMessageId !== null &&
        prior.messages.some((m) => m.providerMessageId === event.message.providerMessageId);
      if (duplicate && (!isDeepStrictEqual(next, prior) || types.join() !== 'duplicateIgnored')) throw new Error('a replayed message changed the window');
      if (event.type === 'placeholder.injected' && next.nextId <= event.message.id) throw new Error('I7: nextId not above the injected id');
      if (types.includes('logOverLimit') && next.messages.length <= after.context.limits.maxMessages && next.totalChars <= after.context.limits.maxCharacters) {
        throw new Error('over-limit logged for a window within its limits');
      }
    },
  };
}

export const correspondentQueueModel: MachineModel<typeof correspondentQueueMachine> = {
  name: 'correspondent-queue',
  machine: correspondentQueueMachine,
  input: { botId: 'bot-1', correspondentId: 'c-1', limits: LIMITS.roomy },
  events,
  serializeState,
  invariants,
};
