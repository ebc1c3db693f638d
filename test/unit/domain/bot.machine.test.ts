import { describe, expect, it } from 'vitest';
import { botMachine } from '../../../machines/bot.machine.ts';
import type { BotEvent, ScheduleReconnectParams } from '../../../machines/bot.machine.ts';
import { drive, paramsOf, types } from './machine-driver.ts';

const T0 = Date.UTC(2025, 0, 1);
const start = (maxReconnectAttempts: number | null = 3) => drive(botMachine, { botId: 'bot-1', maxReconnectAttempts });
const drop = (retryAt: number, retryable = true): BotEvent => ({ type: 'provider.disconnected', reason: 'connection closed', retryable, retryAt });

function connected(maxReconnectAttempts: number | null = 3) {
  const bot = start(maxReconnectAttempts);
  bot.send({ type: 'bot.start' });
  bot.send({ type: 'provider.connected' });
  return bot;
}

describe('bot machine', () => {
  it('pairs by QR, then reaps media jobs and resumes the outbox on connecting', () => {
    const bot = start();
    expect(types(bot.send({ type: 'bot.start' }))).toEqual(['connectProvider', 'announceState']);
    expect(types(bot.send({ type: 'provider.qr', qr: 'qr-1' }))).toEqual(['publishQr', 'announceState']);
    expect(bot.state).toBe('awaiting-qr');
    bot.send({ type: 'provider.qr', qr: 'qr-2' });
    expect(bot.context.qr).toBe('qr-2');
    bot.send({ type: 'provider.connecting' });
    expect(types(bot.send({ type: 'provider.connected' }))).toEqual(['reapMediaJobs', 'resumeOutbox', 'announceState']);
    expect(bot.context.qr).toBeNull();
  });

  it('backs off with the retry time the event brings and ignores a stale reconnect timer', () => {
    const bot = connected();
    const effects = bot.send(drop(T0 + 1_000));
    expect(types(effects)).toEqual(['holdOutbox', 'scheduleReconnect', 'announceState']);
    expect(paramsOf<ScheduleReconnectParams>(effects, 'scheduleReconnect')).toEqual({ botId: 'bot-1', attempt: 1, retryAt: T0 + 1_000 });
    expect(bot.send({ type: 'reconnect.due', attempt: 2 })).toEqual([]);
    expect(bot.state).toBe('reconnecting');
    expect(types(bot.send({ type: 'reconnect.due', attempt: 1 }))).toEqual(['cancelReconnect', 'connectProvider', 'announceState']);
    bot.send(drop(T0 + 3_000));
    expect(bot.context).toMatchObject({ attempt: 2, retryAt: T0 + 3_000 });
    bot.send({ type: 'provider.connected' });
    expect(bot.context).toMatchObject({ attempt: 0, retryAt: null });
  });

  it('gives up after the last reconnect attempt and fails through stopping', () => {
    const bot = connected(1);
    bot.send(drop(T0 + 1_000));
    bot.send({ type: 'reconnect.due', attempt: 1 });
    expect(types(bot.send(drop(T0 + 2_000)))).toEqual(['disconnectProvider', 'flushIngestion', 'holdMediaJobs', 'announceState']);
    expect(bot.state).toBe('stopping');
    bot.send({ type: 'bot.stopped' });
    expect(bot.state).toBe('failed');
    expect(bot.context.lastError).toBe('gave up after 1 reconnect attempts: connection closed');
  });

  it('fails without retrying on a disconnect that is not retryable', () => {
    const bot = connected();
    bot.send(drop(T0, false));
    bot.send({ type: 'bot.stopped' });
    expect(bot.state).toBe('failed');
    expect(bot.context.lastError).toBe('disconnected: connection closed');
  });

  it('drains when logged out, then discards the credentials', () => {
    const bot = connected();
    expect(types(bot.send({ type: 'provider.logged-out' }))).toEqual(['holdOutbox', 'disconnectProvider', 'flushIngestion', 'holdMediaJobs', 'announceState']);
    expect(types(bot.send({ type: 'bot.stopped' }))).toEqual(['discardCredentials', 'announceState']);
    expect(bot.state).toBe('logged-out');
    bot.send({ type: 'bot.start' });
    expect(bot.state).toBe('starting');
  });

  it('remembers a logout that arrives while stopping', () => {
    const bot = connected();
    bot.send({ type: 'bot.stop' });
    bot.send({ type: 'provider.logged-out' });
    bot.send({ type: 'bot.stopped' });
    expect(bot.state).toBe('logged-out');
  });

  it('stops while reconnecting: cancels the timer and drains', () => {
    const bot = connected();
    bot.send(drop(T0 + 1_000));
    expect(types(bot.send({ type: 'bot.stop' }))).toEqual(['cancelReconnect', 'disconnectProvider', 'flushIngestion', 'holdMediaJobs', 'announceState']);
    bot.send({ type: 'bot.stopped' });
    expect(bot.state).toBe('stopped');
    expect(bot.context.stopReason).toBe('requested');
  });

  it('announces each move to another top-level state once, with the reason for reconnecting and failed', () => {
    const bot = start(1);
    const announced = (effects: ReturnType<typeof bot.send>) => effects.filter((e) => e.type === 'announceState').map((e) => e.params);
    expect(announced(bot.send({ type: 'bot.start' }))).toEqual([{ botId: 'bot-1', state: 'starting', reason: null }]);
    expect(announced(bot.send({ type: 'provider.qr', qr: 'qr-1' }))).toEqual([{ botId: 'bot-1', state: 'awaiting-qr', reason: null }]);
    // A new QR code while already waiting for a scan is no move.
    expect(announced(bot.send({ type: 'provider.qr', qr: 'qr-2' }))).toEqual([]);
    bot.send({ type: 'provider.connected' });
    expect(announced(bot.send(drop(T0 + 1_000)))).toEqual([{ botId: 'bot-1', state: 'reconnecting', reason: 'connection closed' }]);
    bot.send({ type: 'reconnect.due', attempt: 1 });
    expect(announced(bot.send(drop(T0 + 2_000)))).toEqual([{ botId: 'bot-1', state: 'stopping', reason: null }]);
    expect(announced(bot.send({ type: 'bot.stopped' }))).toEqual([{ botId: 'bot-1', state: 'failed', reason: 'gave up after 1 reconnect attempts: connection closed' }]);
  });

  it('starts afresh after a failure', () => {
    const bot = connected();
    bot.send({ type: 'provider.failed', error: 'socket error' });
    bot.send({ type: 'bot.stopped' });
    expect(bot.state).toBe('failed');
    bot.send({ type: 'bot.start' });
    expect(bot.context).toMatchObject({ attempt: 0, stopReason: null, lastError: null });
  });
});
