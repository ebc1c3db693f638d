import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { WEAK_KEY_BITS, assessKey, warnAboutWeakKeys } from '../../../src/config/key-strength.ts';
import type { ParleyError } from '../../../src/domain/errors.ts';

describe('API key strength', () => {
  it.each([
    ['one character repeated', 'k'.repeat(20), ['one character class only', 'repeats a pattern']],
    ['a word repeated', 'ParleyParleyParley', ['repeats a pattern']],
    ['a sequence with a word', 'password12345678', ['made largely of runs or sequences']],
    ['all digits', '4719305826174930', ['one character class only']],
    ['16 hex digits (64 bits)', '9f86d081884c7d65', []],
  ])('calls %s weak', (_label, key, problems) => {
    const { estimatedBits, problems: found } = assessKey(key);
    expect(estimatedBits).toBeLessThan(WEAK_KEY_BITS);
    expect(found[0]).toMatch(/^about \d+ bits estimated, fewer than 80$/);
    expect(found.slice(1)).toEqual(problems);
  });

  it('calls a long one-class key weak however random it is', () => {
    expect(assessKey('qmzvxkbtrwplhydgnajsecfoui').problems).toEqual(['one character class only']);
  });

  it.each([
    ['a generated base64url key', randomBytes(24).toString('base64url')],
    ['16 random base64url characters (96 bits)', 'h7Rk2-Qz9XbLw_4p'],
    ['32 hex digits', '9f86d081884c7d65b0f00a5e1c0ff3e2'],
    ['a passphrase with separators', 'correct-horse-battery-staple-42'],
  ])('accepts %s without a problem', (_label, key) => {
    const { estimatedBits, problems } = assessKey(key);
    expect(problems).toEqual([]);
    expect(estimatedBits).toBeGreaterThanOrEqual(WEAK_KEY_BITS);
  });

  it('warns once per weak key, naming the setting and never the key', () => {
    const warnings: { fields: Record<string, unknown>; message: string }[] = [];
    const weak = 'aaaaaaaaaaaaaaaaaaaa';
    warnAboutWeakKeys({ API_KEY: weak, INSPECT_KEY: randomBytes(24).toString('base64url'), OTHER: undefined }, { warn: (fields, message) => warnings.push({ fields, message }) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/^API_KEY looks weak \(about \d+ bits estimated, fewer than 80; one character class only; repeats a pattern\); it is accepted/);
    expect(warnings[0]!.fields).toMatchObject({ setting: 'API_KEY', problems: expect.any(Array) });
    expect(JSON.stringify(warnings)).not.toContain(weak);
  });

  it('keeps accepting a weak key: the warning is all', () => {
    expect(loadConfig({ API_KEY: 'k'.repeat(16) }).apiKey).toBe('k'.repeat(16));
  });
});

describe('inspector settings', () => {
  it('defaults to Stately as the one foreign origin, no read-only key, 12 h sessions, redaction on, 20 failures a minute', () => {
    expect(loadConfig({})).toMatchObject({
      inspectAllowedOrigins: ['https://stately.ai'], inspectKey: undefined, inspectSessionTtlMs: 43_200_000, inspectShowContent: false,
      authFailureLimit: 20, authFailureWindowMs: 60_000,
    });
    expect(loadConfig({ INSPECT_ALLOWED_ORIGINS: 'none' }).inspectAllowedOrigins).toEqual([]);
    expect(loadConfig({ INSPECT_ALLOWED_ORIGINS: 'https://a.example, http://localhost:3000' }).inspectAllowedOrigins).toEqual(['https://a.example', 'http://localhost:3000']);
  });

  it('refuses an origin with a path, a read-only key equal to the API key, and never echoes the key', () => {
    const key = 'the-same-key-for-both-0123';
    try {
      loadConfig({ API_KEY: key, INSPECT_KEY: key, INSPECT_ALLOWED_ORIGINS: 'https://stately.ai/inspect' });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ParleyError).details?.['problems'] as string[];
      expect(problems).toEqual([
        'INSPECT_ALLOWED_ORIGINS has "https://stately.ai/inspect"; write the origin alone: "https://stately.ai"',
        'INSPECT_KEY must differ from API_KEY',
      ]);
      expect((err as Error).message).not.toContain(key);
    }
  });
});
