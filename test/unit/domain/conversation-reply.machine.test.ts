import { describe, expect, it } from 'vitest';
import { conversationReplyMachine } from '../../../machines/conversation-reply.machine.ts';
import type { ConversationReplyEvent, GenerateReplyParams, QueueReplyParams } from '../../../machines/conversation-reply.machine.ts';
import { drive, paramsOf, types } from './machine-driver.ts';

const timing = { debounceMs: 1500, maxWaitMs: 10_000 };
const text = (seq: number, now: number, pendingMedia: number[] = []): ConversationReplyEvent => ({ type: 'message.finalized', seq, now, timing, pendingMedia, mediaWaitMs: 30_000 });
const deadline = (now: number, pendingMedia: number[] = []): ConversationReplyEvent => ({ type: 'reply.deadline', now, pendingMedia, mediaWaitMs: 30_000, maxAttempts: 3 });
const start = () => drive(conversationReplyMachine, { botId: 'b', correspondentId: 'c', answeredThrough: 0 });

describe('conversation-reply machine', () => {
  it('answers a burst of three texts with one reply claimed up to the last seq', () => {
    const m = start();
    m.send(text(1, 1000));
    m.send(text(2, 1500));
    m.send(text(3, 2000));
    expect(m.state).toBe('debouncing');
    expect(m.context.deadline).toBe(3500);
    expect(m.send(deadline(3000))).toEqual([]);
    const effects = m.send(deadline(3500));
    expect(m.state).toBe('generating.calling');
    expect(paramsOf<GenerateReplyParams>(effects, 'generateReply')).toEqual({ botId: 'b', correspondentId: 'c', replyId: 'b|c#1', throughSeq: 3, attempt: 1 });
    const queued = m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'hello', now: 4000, typingMs: 0 });
    expect(paramsOf<QueueReplyParams>(queued, 'queueReply')).toEqual({ botId: 'b', correspondentId: 'c', replyId: 'b|c#1', throughSeq: 3, text: 'hello' });
    expect(m.state).toBe('idle');
    expect(m.context.answeredThrough).toBe(3);
  });

  it('caps the debounce at the maximum wait after the first message of the burst', () => {
    const m = start();
    for (let i = 1; i <= 10; i++) m.send(text(i, i * 1000));
    expect(m.context.deadline).toBe(11_000);
  });

  it('waits for an earlier voice note still being processed, then answers once with both (race m)', () => {
    const m = start();
    // seq 1 is a voice note still a placeholder; seq 2 a text sent right after it.
    m.send(text(2, 1000, [1]));
    m.send(deadline(2500, [1]));
    expect(m.state).toBe('awaiting-media');
    const effects = m.send(text(1, 4000, []));
    expect(m.state).toBe('generating.calling');
    expect(paramsOf<GenerateReplyParams>(effects, 'generateReply').throughSeq).toBe(2);
  });

  it('stops waiting for media at its bound and answers what is final', () => {
    const m = start();
    m.send(text(2, 1000, [1]));
    m.send(deadline(2500, [1]));
    expect(m.send(deadline(30_000, [1]))).toEqual([]);
    expect(types(m.send(deadline(32_500, [1])))).toEqual(['generateReply']);
  });

  it('answers media on its own when it becomes final after a reply stopped waiting for it', () => {
    const m = start();
    m.send(text(2, 1000, [1]));
    m.send(deadline(2500, [1]));
    m.send(deadline(32_500, [1]));
    m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'about the text', now: 33_000, typingMs: 0 });
    expect(m.state).toBe('idle');
    m.send(text(1, 40_000));
    expect(m.state).toBe('debouncing');
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(41_500)), 'generateReply')).toMatchObject({ replyId: 'b|c#2', throughSeq: 2 });
    expect(m.context.lateMedia).toEqual([]);
  });

  it('keeps one reply in flight: a message during generation is the next burst, due once the reply is queued', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    m.send(text(2, 1600));
    expect(m.context.reply?.throughSeq).toBe(1);
    m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'one', now: 2000, typingMs: 0 });
    expect(m.state).toBe('debouncing');
    expect(m.context.deadline).toBe(2000);
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(2000)), 'generateReply')).toMatchObject({ replyId: 'b|c#2', throughSeq: 2 });
  });

  it('drops the reply being generated and pauses when the owner writes from the phone (race l)', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    expect(types(m.send({ type: 'owner.wrote', now: 2000, pauseMs: 60_000 }))).toEqual(['dropReply']);
    expect(m.state).toBe('paused');
    expect(types(m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'late', now: 2500, typingMs: 0 }))).toEqual(['discardLateResult']);
    m.send(text(2, 3000));
    expect(m.context.answeredThrough).toBe(2);
    m.send(deadline(62_000));
    expect(m.state).toBe('idle');
    m.send(text(3, 63_000));
    expect(m.state).toBe('debouncing');
  });

  it('retries a failed call with backoff under the same reply, then gives up visibly', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    const failed = (retryAt: number | null): ConversationReplyEvent => ({ type: 'reply.failed', replyId: 'b|c#1', error: 'HTTP 500', now: 1600, retryAt, maxAttempts: 2 });
    expect(types(m.send(failed(2000)))).toEqual(['reportFailure']);
    expect(m.state).toBe('generating.backoff');
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(2000)), 'generateReply')).toMatchObject({ replyId: 'b|c#1', attempt: 2 });
    m.send(failed(3000));
    expect(m.state).toBe('idle');
    expect(m.context).toMatchObject({ failed: 1, lastError: 'HTTP 500', answeredThrough: 1 });
  });

  it('types for a while before queueing, and resumes typing after a restart', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    expect(types(m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'hi', now: 2000, typingMs: 800 }))).toEqual(['showTyping']);
    m.restart();
    expect(m.state).toBe('sending');
    expect(paramsOf<QueueReplyParams>(m.send(deadline(2800)), 'queueReply').text).toBe('hi');
  });

  it('ignores a replayed notification of a message it already heard', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'x', now: 1600, typingMs: 0 });
    expect(m.send(text(1, 1700))).toEqual([]);
    expect(m.state).toBe('idle');
  });

  it('holds an operator pause without end until resumed, whatever the owner does', () => {
    const m = start();
    m.send({ type: 'ai.paused', now: 0, durationMs: null });
    m.send({ type: 'owner.wrote', now: 10, pauseMs: 5 });
    m.send(deadline(1_000_000));
    expect(m.state).toBe('paused');
    m.send({ type: 'ai.resumed', now: 2_000_000 });
    expect(m.state).toBe('idle');
  });

  it('answers the messages that came while a reply failed for good next, with a deadline that comes', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    m.send(text(2, 1600));
    m.send({ type: 'reply.failed', replyId: 'b|c#1', error: 'context too long', now: 1700, retryAt: null, maxAttempts: 3 });
    expect(m.state).toBe('debouncing');
    // Without a deadline no timer is set, and message 2 waits for a message that may never come.
    expect(m.context.deadline).not.toBeNull();
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(m.context.deadline ?? 0)), 'generateReply')).toMatchObject({ replyId: 'b|c#2', throughSeq: 2 });
  });

  it('answers a voice note that became final while the reply that went without it was typed', () => {
    const m = start();
    m.send(text(2, 1000, [1]));
    m.send(deadline(2500, [1]));
    // The media wait is over: reply 1 answers the text alone.
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(32_500, [1])), 'generateReply')).toMatchObject({ replyId: 'b|c#1', throughSeq: 2 });
    m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'about the text', now: 33_000, typingMs: 800 });
    // The transcript is final while the answer without it is being typed.
    m.send(text(1, 33_200));
    expect(types(m.send(deadline(33_800)))).toEqual(['queueReply']);
    expect(m.state).toBe('debouncing');
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(m.context.deadline ?? 0)), 'generateReply')).toMatchObject({ replyId: 'b|c#2', throughSeq: 2 });
  });

  it('claims nothing while the voice note is still a placeholder, until the media wait is over (race m)', () => {
    const m = start();
    m.send(text(2, 1000, [1]));
    expect(m.send(deadline(2500, [1]))).toEqual([]);
    expect(m.state).toBe('awaiting-media');
    // A later text while the voice note still waits joins the reply, which still waits.
    expect(m.send(text(3, 3000, [1]))).toEqual([]);
    expect(m.send(deadline(32_499, [1]))).toEqual([]);
    expect(m.state).toBe('awaiting-media');
    const effects = m.send(text(1, 4000));
    expect(paramsOf<GenerateReplyParams>(effects, 'generateReply')).toMatchObject({ replyId: 'b|c#1', throughSeq: 3 });
    expect(m.context.lateMedia).toEqual([]);
  });

  it('discards the answer of a dropped reply that comes while the next reply is generated (race l)', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    m.send({ type: 'owner.wrote', now: 1600, pauseMs: 60_000 });
    m.send({ type: 'ai.resumed', now: 2000 });
    m.send(text(2, 3000));
    expect(paramsOf<GenerateReplyParams>(m.send(deadline(4500)), 'generateReply')).toMatchObject({ replyId: 'b|c#2', throughSeq: 2 });
    expect(types(m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'for message 1', now: 4600, typingMs: 0 }))).toEqual(['discardLateResult']);
    expect(m.state).toBe('generating.calling');
    expect(paramsOf<QueueReplyParams>(m.send({ type: 'reply.generated', replyId: 'b|c#2', text: 'for message 2', now: 4700, typingMs: 0 }), 'queueReply')).toMatchObject({ replyId: 'b|c#2', text: 'for message 2' });
  });

  it('ignores results of an earlier attempt and of a dropped reply, and queues each reply once', () => {
    const m = start();
    m.send(text(1, 0));
    m.send(deadline(1500));
    m.send({ type: 'reply.failed', replyId: 'b|c#1', error: 'HTTP 500', now: 1600, retryAt: 2000, maxAttempts: 3 });
    // The failed attempt's answer comes late, during the backoff.
    expect(types(m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'late', now: 1900, typingMs: 0 }))).toEqual(['discardLateResult']);
    expect(m.state).toBe('generating.backoff');
    m.send(deadline(2000));
    expect(types(m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'second', now: 2100, typingMs: 0 }))).toEqual(['queueReply']);
    expect(types(m.send({ type: 'reply.generated', replyId: 'b|c#1', text: 'again', now: 2200, typingMs: 0 }))).toEqual(['discardLateResult']);
    expect(m.context).toMatchObject({ sent: 1, answeredThrough: 1, reply: null });
  });
});
