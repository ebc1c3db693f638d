import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { isParleyError } from '../../../src/domain/errors.ts';
import { defaultPools } from '../../../src/domain/media-pools.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (isParleyError(err, 'CONFIG_INVALID')) return err.message.split('\n').slice(1).map((line) => line.replace(/^\s+- /, ''));
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('media configuration', () => {
  it('keeps the built-in pools when MEDIA_POOLS is unset and reads a valid list', () => {
    expect(loadConfig({}).mediaPools).toBeUndefined();
    const pools = [{ name: 'all', processor: 'noop', concurrency: 3 }];
    expect(loadConfig({ MEDIA_POOLS: JSON.stringify(pools) }).mediaPools).toEqual([{ name: 'all', kinds: [], mimetypes: [], processor: 'noop', concurrency: 3 }]);
  });

  it('stops start-up naming every problem of the pools at once', () => {
    const pools = [
      { name: 'voice', kinds: ['voice'], processor: 'transcribe', concurrency: 0 },
      { name: 'voice', kinds: ['image'], processor: 'teleport', concurrency: 1 },
      { name: 'again', kinds: ['voice'], processor: 'noop', concurrency: 1 },
    ];
    const [problem] = problemsOf({ MEDIA_POOLS: JSON.stringify(pools) });
    expect(problem).toMatch(/^MEDIA_POOLS has 5 problems: /);
    for (const part of [
      'pool "voice" needs concurrency >= 1 (got 0)',
      'pool "voice" is defined more than once',
      'pool "voice" uses unknown processor "teleport"',
      'route voice * is claimed by both "voice" and "again"',
      'no catch-all pool',
    ]) expect(problem).toContain(part);
  });

  it('names shape problems of each pool, and JSON that is not JSON', () => {
    expect(problemsOf({ MEDIA_POOLS: '[{' })).toEqual(['MEDIA_POOLS is not valid JSON']);
    const [problem] = problemsOf({ MEDIA_POOLS: JSON.stringify([{ name: 'Bad Name', kinds: ['hologram'], mimetypes: ['nope'], processor: 'noop', extra: 1 }]) });
    for (const part of ['pool 1 has unknown fields: extra', 'pool 1 needs a name', 'pool 1 mimetypes must be a list like', 'pool 1 lists unknown kinds: hologram']) expect(problem).toContain(part);
  });

  it('requires a bucket for the S3 store, both S3 credentials or neither, and a file cap within the quota', () => {
    const problems = problemsOf({ MEDIA_STORE: 's3', MEDIA_S3_ACCESS_KEY_ID: 'minio', MEDIA_MAX_FILE_BYTES: String(8 * 1024 ** 2), MEDIA_QUOTA_BYTES: String(4 * 1024 ** 2) });
    expect(problems).toEqual([
      'MEDIA_S3_BUCKET is required with MEDIA_STORE=s3',
      'MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY go together',
      'MEDIA_MAX_FILE_BYTES (8388608) must not exceed MEDIA_QUOTA_BYTES (4194304)',
    ]);
  });

  it('has built-in pools that route every kind and pass their own checks', async () => {
    const { validatePools } = await import('../../../src/domain/media-routing.ts');
    const { MEDIA_PROCESSOR_NAMES } = await import('../../../src/domain/media-pools.ts');
    expect(validatePools(defaultPools(4), MEDIA_PROCESSOR_NAMES)).toEqual([]);
  });
});
