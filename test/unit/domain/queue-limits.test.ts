import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/domain/backoff.ts';
import { TRUNCATION_MARKER, truncateContent, validateLimits } from '../../../src/domain/queue-limits.ts';
import { roomyLimits } from './queue-fixtures.ts';

describe('queue limits', () => {
  it('accepts positive limits', () => {
    expect(validateLimits(roomyLimits)).toEqual([]);
  });

  it('lists every invalid limit', () => {
    const errors = validateLimits({ maxMessages: 0, maxCharacters: 1.5, maxAgeDays: -1, maxCharactersPerMessage: 5 });
    expect(errors).toHaveLength(4);
    expect(errors.join('\n')).toMatch(/maxMessages[\s\S]*maxCharacters[\s\S]*maxAgeDays[\s\S]*truncation marker/);
  });

  it('leaves content that fits untouched', () => {
    expect(truncateContent('short', 10)).toBe('short');
    expect(truncateContent('exactly10!', 10)).toBe('exactly10!');
  });

  it('cuts to the cap with the marker included in the length', () => {
    const cut = truncateContent('a'.repeat(40), 20);
    expect(cut).toHaveLength(20);
    expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncateContent('ab' + '😀'.repeat(20), 2 + 1 + TRUNCATION_MARKER.length);
    expect(cut).toBe('ab' + TRUNCATION_MARKER);
    expect(cut.isWellFormed()).toBe(true);
  });
});

describe('backoff', () => {
  const policy = { baseMs: 1_000, maxMs: 30_000, jitter: 0.5 };

  it('doubles per attempt up to the cap', () => {
    const noJitter = { ...policy, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, noJitter, 0.9))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('spreads the delay by the jitter fraction using the random value it is given', () => {
    expect(backoffDelay(2, policy, 0)).toBe(1_000);
    expect(backoffDelay(2, policy, 0.999_999)).toBe(2_000);
  });
});
