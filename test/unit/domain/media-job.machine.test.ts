import { describe, expect, it } from 'vitest';
import { mediaJobMachine } from '../../../machines/media-job.machine.ts';
import type { DiscardLateResultParams, FinalizePlaceholderParams, MediaJobEvent } from '../../../machines/media-job.machine.ts';
import { drive, paramsOf, types } from './machine-driver.ts';

const T0 = Date.UTC(2025, 0, 1);
const input = { jobId: 'job-1', botId: 'bot-1', correspondentId: 'c-1', messageId: 4, kind: 'voice' as const, caption: 'listen', fileName: null, maxAttempts: 2 };
const claim = (attempt: number, owner = 'worker-a'): MediaJobEvent => ({ type: 'job.claimed', owner, leaseUntil: T0 + 60_000, attempt });
const complete = (attempt: number, text = 'see you at five'): MediaJobEvent => ({ type: 'job.completed', attempt, outcome: { status: 'processed', text } });

describe('media job machine', () => {
  it('persists the result before finalizing the placeholder, then releases the media once delivered (I4)', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    expect(job.state).toBe('processing');
    expect(types(job.send(complete(1)))).toEqual(['finalizePlaceholder']);
    expect(paramsOf<FinalizePlaceholderParams>(job.effects, 'finalizePlaceholder')).toEqual({
      jobId: 'job-1',
      botId: 'bot-1',
      correspondentId: 'c-1',
      messageId: 4,
      content: '[Voice message] see you at five\nCaption: listen',
      status: 'final',
    });
    expect(types(job.send({ type: 'job.delivered' }))).toEqual(['releaseMedia']);
    expect(job.state).toBe('delivered');
  });

  it('race c: after a restart between persisting and finalizing, bot start finalizes again', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send(complete(1));
    job.restart();
    expect(job.state).toBe('completed');
    expect(types(job.send({ type: 'bot.started' }))).toEqual(['finalizePlaceholder']);
    job.send({ type: 'job.delivered' });
    expect(job.state).toBe('delivered');
  });

  it('race d: a job whose bot stops after the claim still completes and is delivered when the bot starts (I6)', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'bot.stopped' });
    expect(job.state).toBe('holding.claimed');
    expect(types(job.send(complete(1)))).toEqual([]);
    expect(job.state).toBe('completed');
    expect(types(job.send({ type: 'bot.started' }))).toEqual(['finalizePlaceholder']);
  });

  it('moves an unclaimed job to holding and back to pending with its bot', () => {
    const job = drive(mediaJobMachine, input);
    job.send({ type: 'bot.stopped' });
    expect(job.state).toBe('holding.idle');
    job.send({ type: 'bot.started' });
    expect(job.state).toBe('pending');
  });

  it('race e: a result arriving after the janitor dead-lettered the job is discarded and counted (I5)', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    expect(types(job.send({ type: 'job.dead-lettered', reason: 'stale for 3 hours' }))).toEqual(['deadLetter', 'finalizePlaceholder']);
    expect(paramsOf<FinalizePlaceholderParams>(job.effects, 'finalizePlaceholder')).toMatchObject({
      content: '[Voice message] (could not be processed: stale for 3 hours)\nCaption: listen',
      status: 'failed',
    });
    expect(types(job.send(complete(1)))).toEqual(['discardLateResult']);
    expect(job.state).toBe('failed.notifying');
    expect(job.context.result).toBeNull();
    expect(job.context.discardedResults).toBe(1);
  });

  it('discards the report of an attempt whose lease expired once the job is claimed again', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'job.lease-expired', attempt: 1, now: T0 + 3_600_000 });
    expect(job.state).toBe('pending');
    job.send(claim(2, 'worker-b'));
    expect(types(job.send(complete(1, 'from the first worker')))).toEqual(['discardLateResult']);
    expect(paramsOf<DiscardLateResultParams>(job.effects, 'discardLateResult')).toEqual({
      jobId: 'job-1',
      eventType: 'job.completed',
      reportedAttempt: 1,
      currentAttempt: 2,
    });
    expect(job.state).toBe('processing');
    expect(types(job.send(complete(2)))).toEqual(['finalizePlaceholder']);
  });

  it('ignores a lease expiry timer of an earlier attempt', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'job.failed', attempt: 1, error: 'timeout', transient: true, retryAt: T0 + 5_000 });
    job.send(claim(2));
    expect(job.send({ type: 'job.lease-expired', attempt: 1, now: T0 + 3_600_000 })).toEqual([]);
    expect(job.state).toBe('processing');
  });

  it('extends the lease on a current heartbeat only', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'job.heartbeat', attempt: 1, leaseUntil: T0 + 90_000 });
    expect(job.context.leaseUntil).toBe(T0 + 90_000);
    expect(types(job.send({ type: 'job.heartbeat', attempt: 0, leaseUntil: T0 + 999_000 }))).toEqual(['discardLateResult']);
    expect(job.context.leaseUntil).toBe(T0 + 90_000);
  });

  it('retries transient failures until attempts run out, then dead-letters with a note', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    expect(job.send({ type: 'job.failed', attempt: 1, error: 'rate limited', transient: true, retryAt: T0 + 5_000 })).toEqual([]);
    expect(job.state).toBe('pending');
    expect(job.context.notBefore).toBe(T0 + 5_000);
    job.send(claim(2));
    expect(types(job.send({ type: 'job.failed', attempt: 2, error: 'rate limited', transient: true, retryAt: T0 + 9_000 }))).toEqual([
      'deadLetter',
      'finalizePlaceholder',
    ]);
    expect(job.state).toBe('failed.notifying');
    expect(job.send(claim(3))).toEqual([]);
  });

  it('fails at once on a permanent error', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'job.failed', attempt: 1, error: 'unsupported format', transient: false, retryAt: null });
    expect(job.state).toBe('failed.notifying');
    expect(job.context.error).toBe('unsupported format');
  });

  it('delivers a failure note held while the bot was stopped when the bot starts', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'bot.stopped' });
    expect(types(job.send({ type: 'job.failed', attempt: 1, error: 'corrupt file', transient: false, retryAt: null }))).toEqual(['deadLetter']);
    expect(types(job.send({ type: 'bot.started' }))).toEqual(['finalizePlaceholder']);
    job.send({ type: 'job.delivered' });
    expect(job.state).toBe('failed.notified');
  });

  it('reopens the placeholder and grants a fresh budget on an operator retry', () => {
    const job = drive(mediaJobMachine, input);
    job.send(claim(1));
    job.send({ type: 'job.failed', attempt: 1, error: 'corrupt file', transient: false, retryAt: null });
    expect(types(job.send({ type: 'job.retry' }))).toEqual(['reopenPlaceholder']);
    expect(job.state).toBe('pending');
    expect(job.context).toMatchObject({ attempt: 1, maxAttempts: 3, error: null });
    job.send(claim(2));
    expect(types(job.send(complete(2)))).toEqual(['finalizePlaceholder']);
  });

  it('releases the media of a failed job only when it is discarded', () => {
    const job = drive(mediaJobMachine, input);
    job.send({ type: 'job.dead-lettered', reason: 'no pool accepts this media' });
    expect(types(job.send({ type: 'job.discarded' }))).toEqual(['releaseMedia']);
    expect(job.state).toBe('discarded');
  });
});
