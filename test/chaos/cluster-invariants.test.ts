import { describe, expect, it } from 'vitest';
import { historyProblems, longestOutage, overlappingSessions, sessionEnd } from './cluster-invariants.ts';
import type { Life, Session, StoredRow } from './cluster-invariants.ts';

const session = (instanceId: string, startedAt: number, endedAt: number | null, connectedAt: number | null = startedAt + 1): Session =>
  ({ botId: 'b', sessionId: `${instanceId}@${startedAt}`, instanceId, startedAt, connectedAt, endedAt, endReason: endedAt === null ? null : 'stopped' });
const life = (instanceId: string, spawnedAt: number, endedAt: number | null, frozen: Life['frozen'] = []): Life =>
  ({ instanceId, spawnedAt, endedAt, killed: endedAt !== null, frozen });
const row = (seq: number, providerMessageId: string): StoredRow => ({ botId: 'b', correspondentId: 'c', seq, providerMessageId, direction: 'inbound' });

describe('the session-log checks of a cluster run', () => {
  const lives = [life('p1', 0, 1000), life('p1', 2000, null), life('p2', 0, null)];

  it('ends a session of a killed process at the kill, and one of a live process now', () => {
    expect(sessionEnd(session('p1', 100, null), lives, 5000)).toBe(1000);
    expect(sessionEnd(session('p1', 2100, null), lives, 5000)).toBe(5000);
    expect(sessionEnd(session('p1', 2100, 2500), lives, 5000)).toBe(2500);
  });

  it('finds two sessions of one bot that ran at once, including one its killed process never ended', () => {
    expect(overlappingSessions([session('p1', 100, null), session('p2', 1500, null)], lives, 5000)).toEqual([]);
    expect(overlappingSessions([session('p1', 100, null), session('p2', 900, null)], lives, 5000)).toEqual([
      'b: p1/p1@100 and p2/p2@900 ran together for 100 ms',
    ]);
  });

  it('does not count the time a process was frozen, nor the grace it gets after waking, and counts the rest', () => {
    const frozen = [life('p3', 0, null, [{ from: 1000, to: 4000 }]), life('p2', 0, null)];
    const sleeper = session('p3', 100, 4050);
    const successor = session('p2', 2000, null);
    expect(overlappingSessions([sleeper, successor], frozen, 6000, 50)).toEqual([]);
    expect(overlappingSessions([sleeper, successor], frozen, 6000, 20)).toEqual(['b: p3/p3@100 and p2/p2@2000 ran together for 30 ms']);
  });

  it('measures the longest time no session of a bot was connected', () => {
    const sessions = [session('p1', 0, 1000, 10), session('p2', 1300, 3000, 1400), session('p1', 2900, null, 3100)];
    expect(longestOutage(sessions, [life('p1', 0, null), life('p2', 0, null)], 0, 5000)).toBe(400);
    expect(longestOutage(sessions.slice(0, 2), [life('p1', 0, null), life('p2', 0, null)], 0, 5000)).toBe(2000);
  });
});

describe('the history checks of a cluster run', () => {
  const conversation = { botId: 'b', correspondentId: 'c', sent: ['m0', 'm1', 'm2'], acked: new Set(['m0', 'm1', 'm2']) };

  it('accepts every acknowledged message stored once in send order', () => {
    expect(historyProblems([conversation], [row(1, 'm0'), row(2, 'm1'), row(4, 'm2')])).toEqual([]);
  });

  it('reports a lost, a doubled, an unsent and a reordered message, and a row of a conversation nobody had', () => {
    expect(historyProblems([conversation], [row(1, 'm0'), row(2, 'm2')])).toEqual(['b|c: acknowledged m1 is not stored']);
    expect(historyProblems([conversation], [row(1, 'm0'), row(2, 'm1'), row(3, 'm1'), row(4, 'm2')])).toEqual([
      'b|c: m1 stored 2 times',
      'b|c: seq order differs from send order: 1:m0 2:m1 3:m1 4:m2',
    ]);
    expect(historyProblems([conversation], [row(1, 'm0'), row(2, 'm1'), row(3, 'm2'), row(4, 'x')])).toEqual([
      'b|c: x stored but never sent',
      'b|c: seq order differs from send order: 1:m0 2:m1 3:m2 4:x',
    ]);
    expect(historyProblems([conversation], [row(1, 'm1'), row(2, 'm0'), row(3, 'm2')])).toEqual([
      'b|c: seq order differs from send order: 1:m1 2:m0 3:m2',
    ]);
    expect(historyProblems([conversation], [row(1, 'm0'), row(2, 'm1'), row(3, 'm2'), { ...row(1, 'y'), correspondentId: 'd' }])).toEqual([
      'b|d: 1 rows in a conversation nobody sent to',
    ]);
  });

  it('accepts an unacknowledged message either stored or not', () => {
    const maybe = { ...conversation, acked: new Set(['m0', 'm2']) };
    expect(historyProblems([maybe], [row(1, 'm0'), row(2, 'm2')])).toEqual([]);
    expect(historyProblems([maybe], [row(1, 'm0'), row(2, 'm1'), row(3, 'm2')])).toEqual([]);
  });
});
