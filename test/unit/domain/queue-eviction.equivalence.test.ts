import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enforceLimits, measureOverLimit } from '../../../src/domain/queue-eviction.ts';
import type { EvictedMessage, EvictionResult } from '../../../src/domain/queue-eviction.ts';
import { isPlaceholder, sumSizes } from '../../../src/domain/queue-message.ts';
import type { QueueLimits, QueueMessage, QueueWindow } from '../../../src/domain/queue-message.ts';
import { DAY_MS, T0 } from './queue-fixtures.ts';

/** The limit pass written the plain way: drop by age, then by count and characters, copying at each step. */
function reference(window: QueueWindow, limits: QueueLimits, now: number, shieldedIds: readonly number[]): EvictionResult {
  const evictable = (m: QueueMessage) => !isPlaceholder(m) && !shieldedIds.includes(m.id);
  const evicted: EvictedMessage[] = [];
  const fresh = window.messages.filter((m) => {
    const expired = evictable(m) && now - m.acceptedAt > limits.maxAgeDays * DAY_MS;
    if (expired) evicted.push({ message: m, reason: 'age' });
    return !expired;
  });
  let excessCount = fresh.length - limits.maxMessages;
  let excessChars = sumSizes(fresh) - limits.maxCharacters;
  const kept = fresh.filter((m) => {
    if (!evictable(m) || (excessCount <= 0 && excessChars <= 0)) return true;
    evicted.push({ message: m, reason: excessCount > 0 ? 'count' : 'characters' });
    excessCount -= 1;
    excessChars -= m.size;
    return false;
  });
  const next = { messages: kept, totalChars: sumSizes(kept), nextId: window.nextId };
  return { window: next, evicted, overLimit: measureOverLimit(next, limits, shieldedIds) };
}

const message = (id: number, size: number, ageMs: number, placeholder: boolean): QueueMessage => ({
  id,
  content: 'x'.repeat(size),
  sender: { id: 's', displayName: null },
  source: 'user',
  acceptedAt: T0 - ageMs,
  size,
  originatingAt: null,
  group: null,
  providerMessageId: null,
  mediaJobId: placeholder ? `job-${id}` : null,
});

const windowArb = fc
  .array(fc.record({ size: fc.integer({ min: 0, max: 40 }), ageMs: fc.integer({ min: 0, max: 4 * DAY_MS }), placeholder: fc.boolean() }), { maxLength: 12 })
  .map((specs): QueueWindow => {
    const messages = specs.map((s, i) => message(i + 1, s.size, s.ageMs, s.placeholder));
    return { messages, totalChars: sumSizes(messages), nextId: messages.length + 1 };
  });
const limitsArb = fc.record({
  maxMessages: fc.integer({ min: 1, max: 12 }),
  maxCharacters: fc.integer({ min: 1, max: 300 }),
  maxAgeDays: fc.integer({ min: 1, max: 3 }),
  maxCharactersPerMessage: fc.constant(100),
});

describe('enforceLimits', () => {
  it('decides exactly as the plain two-pass limit pass, in the same order', () => {
    fc.assert(
      fc.property(windowArb, limitsArb, fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 2 }), (window, limits, shielded) => {
        expect(enforceLimits(window, limits, T0, shielded)).toEqual(reference(window, limits, T0, shielded));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the array of a window that is within its limits', () => {
    const window: QueueWindow = { messages: [message(1, 5, 0, false), message(2, 5, 0, true)], totalChars: 10, nextId: 3 };
    const result = enforceLimits(window, { maxMessages: 5, maxCharacters: 100, maxAgeDays: 1, maxCharactersPerMessage: 100 }, T0);
    expect(result.window.messages).toBe(window.messages);
    expect(result.evicted).toEqual([]);
  });
});
