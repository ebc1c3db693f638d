import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { isParleyError } from '../../../src/domain/errors.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (isParleyError(err, 'CONFIG_INVALID')) return err.message.split('\n').slice(1).map((line) => line.replace(/^\s+- /, ''));
    throw err;
  }
}

describe('cluster settings', () => {
  it('default to the host name as the instance id, a 15 s lease, a 2 s takeover delay, no cap and a 1 s poll', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ ownershipLeaseMs: 15_000, ownershipTakeoverDelayMs: 2000, maxBotsPerInstance: 0, workPollMs: 1000, instanceUrl: undefined });
    expect(config.instanceId).toBe(hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || 'parley');
  });

  it('reads an instance id, its URL and the lease settings', () => {
    expect(loadConfig({ INSTANCE_ID: 'parley-2', INSTANCE_URL: 'http://parley-2:8080', OWNERSHIP_LEASE_MS: '6000', OWNERSHIP_TAKEOVER_DELAY_MS: '500', MAX_BOTS_PER_INSTANCE: '40', WORK_POLL_MS: '250' }))
      .toMatchObject({ instanceId: 'parley-2', instanceUrl: 'http://parley-2:8080', ownershipLeaseMs: 6000, ownershipTakeoverDelayMs: 500, maxBotsPerInstance: 40, workPollMs: 250 });
  });

  it('names every bad cluster setting at once, including a takeover delay longer than the lease', () => {
    const problems = problemsOf({ INSTANCE_ID: 'has space', INSTANCE_URL: 'ftp://x', OWNERSHIP_LEASE_MS: '3000', OWNERSHIP_TAKEOVER_DELAY_MS: '4000', WORK_POLL_MS: '10' });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^INSTANCE_ID /),
      expect.stringMatching(/^INSTANCE_URL /),
      expect.stringMatching(/^WORK_POLL_MS /),
      'OWNERSHIP_TAKEOVER_DELAY_MS (4000) must not exceed OWNERSHIP_LEASE_MS (3000)',
    ]));
  });
});
