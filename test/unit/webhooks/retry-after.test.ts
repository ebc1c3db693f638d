import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../../src/adapters/webhooks/retry-after.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('Retry-After', () => {
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 12:00:30 GMT', 30_000],
    ['Thursday, 01-Jan-26 12:01:00 GMT', 60_000],
    ['Wed, 31 Dec 2025 12:00:00 GMT', 0],
    ['', null],
    ['soon', null],
    ['-5', null],
    ['1.5', null],
    ['2026-01-01T12:00:30Z', null],
  ])('%j waits %s ms', (header, ms) => {
    expect(retryAfterMs(header, NOW)).toBe(ms);
  });

  it('reads the first of repeated headers and nothing from an absent one', () => {
    expect(retryAfterMs(['7', '9'], NOW)).toBe(7_000);
    expect(retryAfterMs(undefined, NOW)).toBeNull();
  });
});
