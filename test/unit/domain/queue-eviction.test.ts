import { describe, expect, it } from 'vitest';
import { enforceLimits } from '../../../src/domain/queue-eviction.ts';
import { emptyWindow, isPlaceholder } from '../../../src/domain/queue-message.ts';
import type { QueueLimits, QueueWindow } from '../../../src/domain/queue-message.ts';
import { addMediaPlaceholder, addText } from '../../../src/domain/queue-window.ts';
import { DAY_MS, expectConsistent, limits, media, roomyLimits, T0, text } from './queue-fixtures.ts';

type Entry = { text: string; at?: number } | { job: string; at?: number };

/** Builds a window under roomy limits, so nothing is evicted while it is set up. */
function build(...entries: Entry[]): QueueWindow {
  return entries.reduce(
    (w, e) =>
      'job' in e
        ? addMediaPlaceholder(w, roomyLimits, media(e.job), e.at ?? T0).window
        : addText(w, roomyLimits, text(e.text), e.at ?? T0).window,
    emptyWindow(),
  );
}

const ids = (w: QueueWindow) => w.messages.map((m) => m.id);

describe('eviction', () => {
  it('evicts the oldest unprotected messages first for the count limit', () => {
    const result = enforceLimits(build({ text: 'a' }, { text: 'b' }, { text: 'c' }), limits({ maxMessages: 2 }), T0);
    expect(result.evicted.map((e) => [e.message.id, e.reason])).toEqual([[1, 'count']]);
    expect(ids(result.window)).toEqual([2, 3]);
    expect(result.overLimit).toBeNull();
  });

  it('evicts for the character limit and keeps totalChars equal to the sum of sizes', () => {
    const result = enforceLimits(build({ text: 'aaaa' }, { text: 'bbbb' }, { text: 'cc' }), limits({ maxCharacters: 6 }), T0);
    expect(result.evicted.map((e) => [e.message.id, e.reason])).toEqual([[1, 'characters']]);
    expect(result.window.totalChars).toBe(6);
    expectConsistent(result.window);
  });

  it('never evicts a placeholder, even when it is the oldest message', () => {
    const window = build({ job: 'j1' }, { text: 'a' }, { text: 'b' });
    const result = enforceLimits(window, limits({ maxMessages: 2 }), T0);
    expect(ids(result.window)).toEqual([1, 3]);
    expect(result.evicted.every((e) => !isPlaceholder(e.message))).toBe(true);
  });

  it('never evicts a placeholder when only placeholders remain, and terminates reporting over-limit', () => {
    const window = build({ job: 'j1' }, { job: 'j2' }, { job: 'j3' });
    const result = enforceLimits(window, limits({ maxMessages: 2, maxCharacters: 10 }), T0);
    expect(result.evicted).toEqual([]);
    expect(ids(result.window)).toEqual([1, 2, 3]);
    expect(result.overLimit).toMatchObject({ exceeded: ['count', 'characters'], messages: 3, maxMessages: 2, protectedMessages: 3 });
  });

  it('accepts a new message into a queue of only placeholders without hanging (race a)', () => {
    const tight = limits({ maxMessages: 2 });
    const window = build({ job: 'j1' }, { job: 'j2' });
    const result = addText(window, tight, text('hello?'), T0 + 1);
    expect(result.message.id).toBe(3);
    expect(ids(result.window)).toEqual([1, 2, 3]);
    expect(result.evicted).toEqual([]);
    expect(result.overLimit).toMatchObject({ exceeded: ['count'], protectedMessages: 3 });
  });

  it('checks the age of each candidate, not the head of the queue (race b)', () => {
    const now = T0 + 10 * DAY_MS;
    const window = build({ job: 'old-placeholder', at: T0 }, { text: 'aged', at: T0 + DAY_MS }, { text: 'fresh', at: now - DAY_MS });
    const result = enforceLimits(window, limits({ maxAgeDays: 3 }), now);
    expect(result.evicted.map((e) => [e.message.content, e.reason])).toEqual([['aged', 'age']]);
    expect(result.window.messages.map((m) => m.content)).toEqual(['[Voice message] (processing)', 'fresh']);
  });

  it('evicts an aged message that sits behind a younger one', () => {
    const now = T0 + 10 * DAY_MS;
    const window = build({ text: 'young', at: now }, { text: 'old', at: T0 });
    const result = enforceLimits(window, limits({ maxAgeDays: 1 }), now);
    expect(result.window.messages.map((m) => m.content)).toEqual(['young']);
  });

  it('does not evict shielded messages and reports the window over limit because of them', () => {
    const window = build({ text: 'x'.repeat(50) });
    const result = enforceLimits(window, limits({ maxCharacters: 10 }), T0, [1]);
    expect(result.evicted).toEqual([]);
    expect(result.overLimit).toMatchObject({ exceeded: ['characters'], protectedMessages: 1 });
  });

  it('stops evicting once back within limits', () => {
    const window = build({ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' });
    const result = enforceLimits(window, limits({ maxMessages: 3 }), T0);
    expect(result.evicted).toHaveLength(1);
  });

  it('applies count then characters in one pass, labelling each eviction', () => {
    const l: QueueLimits = limits({ maxMessages: 3, maxCharacters: 5 });
    const window = build({ text: 'aaa' }, { text: 'bbb' }, { text: 'ccc' }, { text: 'dd' });
    const result = enforceLimits(window, l, T0);
    expect(result.evicted.map((e) => e.reason)).toEqual(['count', 'characters']);
    expect(ids(result.window)).toEqual([3, 4]);
    expectConsistent(result.window);
  });
});
