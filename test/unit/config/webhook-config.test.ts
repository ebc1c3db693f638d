import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { retryDelays } from '../../../src/config/webhook-config-options.ts';
import { isParleyError } from '../../../src/domain/errors.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (isParleyError(err, 'CONFIG_INVALID')) return err.message.split('\n').slice(1).map((line) => line.replace(/^\s+- /, ''));
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('webhook configuration', () => {
  it('defaults to five retries over about an hour and a quarter, no address refusal, 10 s attempts', () => {
    expect(loadConfig({})).toMatchObject({ webhookRetryDelaysMs: [5000, 30000, 120000, 600000, 3600000], webhookDenyPrivate: false, webhookTimeoutMs: 10000 });
  });

  it('reads the retry delays as a comma-separated list whose length is the number of retries', () => {
    expect(loadConfig({ WEBHOOK_RETRY_DELAYS_MS: '100, 200,300', WEBHOOK_DENY_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '2500' }))
      .toMatchObject({ webhookRetryDelaysMs: [100, 200, 300], webhookDenyPrivate: true, webhookTimeoutMs: 2500 });
    expect(retryDelays('1000')).toEqual({ ok: true, value: [1000] });
  });

  it('names every bad delay at once, beside the other options\' problems', () => {
    const problems = problemsOf({ WEBHOOK_RETRY_DELAYS_MS: '5000,0,-1,abc,,1.5,30000', WEBHOOK_DENY_PRIVATE: 'maybe', WEBHOOK_TIMEOUT_MS: '5' });
    expect(problems).toHaveLength(3);
    const delays = problems.find((p) => p.startsWith('WEBHOOK_RETRY_DELAYS_MS'));
    for (const entry of ['entry 2 ("0")', 'entry 3 ("-1")', 'entry 4 ("abc")', 'entry 5 ("")', 'entry 6 ("1.5")']) expect(delays).toContain(entry);
    expect(delays).not.toContain('entry 1');
    expect(problems.join('\n')).toMatch(/WEBHOOK_DENY_PRIVATE must be 1 or 0/);
    expect(problems.join('\n')).toMatch(/WEBHOOK_TIMEOUT_MS must be between 100 and 300000/);
  });

  it('refuses more than 50 retries and delays over a week', () => {
    expect(retryDelays(Array.from({ length: 51 }, () => '1').join(',')).ok).toBe(false);
    expect(retryDelays(String(7 * 86_400_000 + 1)).ok).toBe(false);
  });
});
