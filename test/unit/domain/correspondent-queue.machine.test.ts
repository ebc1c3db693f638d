import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { correspondentQueueMachine } from '../../../machines/correspondent-queue.machine.ts';
import type {
  CorrespondentQueueEvent,
  DuplicateIgnoredParams,
  LogOverLimitParams,
  MessagePoppedParams,
  MessagesEvictedParams,
  NotifyListenersParams,
} from '../../../machines/correspondent-queue.machine.ts';
import type { PlaceholderMessage } from '../../../src/domain/queue-message.ts';
import { drive, paramsOf, types } from './machine-driver.ts';
import { DAY_MS, limits, media, roomyLimits, T0, text } from './queue-fixtures.ts';

const start = (l = roomyLimits) => drive(correspondentQueueMachine, { botId: 'bot-1', correspondentId: 'c-1', limits: l });
const textEvent = (content: string, providerMessageId: string | null = null, now = T0): CorrespondentQueueEvent => ({
  type: 'message.text-received',
  message: text(content, providerMessageId),
  now,
});
const mediaEvent = (jobId: string, now = T0): CorrespondentQueueEvent => ({ type: 'message.media-received', message: media(jobId), now });

describe('correspondent queue machine', () => {
  it('records then notifies a text message at arrival, and media only at finalization (I3)', () => {
    const queue = start();
    expect(types(queue.send(textEvent('hello')))).toEqual(['notifyListeners']);
    expect(types(queue.send(mediaEvent('job-1')))).toEqual([]);
    const finalized = queue.send({ type: 'media.finalized', mediaJobId: 'job-1', content: '[Voice message] hi', now: T0 });
    expect(types(finalized)).toEqual(['notifyListeners']);
    expect(paramsOf<NotifyListenersParams>(finalized, 'notifyListeners').message).toMatchObject({ id: 2, content: '[Voice message] hi', mediaJobId: null });
    expect(queue.state).toBe('active');
  });

  it('finalizing twice notifies once and reports the second as missed', () => {
    const queue = start();
    queue.send(mediaEvent('job-1'));
    queue.send({ type: 'media.finalized', mediaJobId: 'job-1', content: 'first', now: T0 });
    expect(types(queue.send({ type: 'media.finalized', mediaJobId: 'job-1', content: 'again', now: T0 }))).toEqual(['finalizeMissed']);
    expect(queue.context.window.messages[0]?.content).toBe('first');
  });

  it('race a: accepts a new message into a queue of only placeholders and logs the over-limit', () => {
    const queue = start(limits({ maxMessages: 2 }));
    queue.send(mediaEvent('job-1'));
    queue.send(mediaEvent('job-2'));
    const effects = queue.send(textEvent('still there?'));
    expect(types(effects)).toEqual(['notifyListeners', 'logOverLimit']);
    expect(paramsOf<LogOverLimitParams>(effects, 'logOverLimit').report).toMatchObject({ exceeded: ['count'], messages: 3, protectedMessages: 3 });
  });

  it('race b: an old placeholder at the head does not drag younger messages out on an age pass', () => {
    const queue = start(limits({ maxAgeDays: 1 }));
    queue.send(mediaEvent('job-1', T0));
    queue.send(textEvent('aged', null, T0 + DAY_MS));
    const effects = queue.send(textEvent('fresh', null, T0 + 2.5 * DAY_MS));
    expect(paramsOf<MessagesEvictedParams>(effects, 'messagesEvicted').evicted.map((e) => [e.message.content, e.reason])).toEqual([['aged', 'age']]);
    expect(queue.context.window.messages.map((m) => m.id)).toEqual([1, 3]);
    expect(queue.send({ type: 'queue.evict', now: T0 + 2.5 * DAY_MS })).toEqual([]);
  });

  it('race f: after recovery injection the next message id is above every injected id (I7)', () => {
    const queue = start();
    queue.send(textEvent('before'));
    const recovered: PlaceholderMessage = {
      id: 17,
      content: '[Image] (processing)',
      sender: { id: 'c-1', displayName: null },
      source: 'user',
      acceptedAt: T0,
      size: 20,
      originatingAt: null,
      group: null,
      providerMessageId: 'wa-17',
      mediaJobId: 'job-17',
    };
    expect(queue.send({ type: 'placeholder.injected', message: recovered, now: T0 })).toEqual([]);
    const effects = queue.send(textEvent('after'));
    expect(paramsOf<NotifyListenersParams>(effects, 'notifyListeners').message.id).toBe(18);
  });

  it('race h: the same provider message delivered twice is accepted once', () => {
    const queue = start();
    queue.send(textEvent('hi', 'wa-1'));
    const replay = queue.send(textEvent('hi', 'wa-1'));
    expect(types(replay)).toEqual(['duplicateIgnored']);
    expect(paramsOf<DuplicateIgnoredParams>(replay, 'duplicateIgnored')).toEqual({ botId: 'bot-1', correspondentId: 'c-1', providerMessageId: 'wa-1', messageId: 1 });
    expect(queue.context.window.messages).toHaveLength(1);
  });

  it('pops the oldest ready message past placeholders', () => {
    const queue = start();
    queue.send(mediaEvent('job-1'));
    queue.send(textEvent('ready'));
    const popped = paramsOf<MessagePoppedParams>(queue.send({ type: 'queue.pop-ready' }), 'messagePopped');
    expect(popped.message.content).toBe('ready');
    expect(popped.skippedPlaceholders).toBe(1);
    expect(queue.send({ type: 'queue.pop-ready' })).toEqual([]);
  });

  it('applies new limits at once and rejects invalid ones', () => {
    const queue = start();
    for (const word of ['one', 'two', 'three']) queue.send(textEvent(word));
    const effects = queue.send({ type: 'limits.changed', limits: limits({ maxMessages: 1 }), now: T0 });
    expect(paramsOf<MessagesEvictedParams>(effects, 'messagesEvicted').evicted.map((e) => e.message.content)).toEqual(['one', 'two']);
    expect(types(queue.send({ type: 'limits.changed', limits: limits({ maxMessages: 0 }), now: T0 }))).toEqual(['limitsRejected']);
    expect(queue.context.limits.maxMessages).toBe(1);
  });

  it('restores from a stored snapshot with the same window', () => {
    const queue = start();
    queue.send(textEvent('kept'));
    queue.send(mediaEvent('job-1'));
    const before = queue.context.window;
    queue.restart();
    expect(queue.context.window).toEqual(before);
    expect(types(queue.send({ type: 'media.finalized', mediaJobId: 'job-1', content: 'done', now: T0 }))).toEqual(['notifyListeners']);
  });

  it('runs effects supplied with machine.provide, receiving their params', () => {
    const notified: number[] = [];
    const machine = correspondentQueueMachine.provide({
      actions: {
        notifyListeners: (_, params) => notified.push(params.message.id),
      },
    });
    const actor = createActor(machine, { input: { botId: 'bot-1', correspondentId: 'c-1', limits: roomyLimits } }).start();
    actor.send(textEvent('hello'));
    actor.send(mediaEvent('job-1'));
    actor.send({ type: 'media.finalized', mediaJobId: 'job-1', content: 'done', now: T0 });
    expect(notified).toEqual([1, 2]);
    actor.stop();
  });
});
