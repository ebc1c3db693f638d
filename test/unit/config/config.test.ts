import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { CONFIG_OPTIONS } from '../../../src/config/config-options.ts';
import { ParleyError } from '../../../src/domain/errors.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe('CONFIG_INVALID');
    return (err as ParleyError).details?.['problems'] as string[];
  }
  throw new Error('configuration was accepted');
}

describe('configuration', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', mongodbUri: undefined, mongodbDb: 'parley', logLevel: 'info', memoryServer: 'auto' });
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.mediaDir).toBe(path.resolve('./data/media'));
  });

  it('generates an API key when none is set and keeps a configured one', () => {
    const generated = loadConfig({});
    expect(generated.apiKeyGenerated).toBe(true);
    expect(generated.apiKey.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}).apiKey).not.toBe(generated.apiKey);
    const configured = loadConfig({ API_KEY: 'k'.repeat(20) });
    expect(configured).toMatchObject({ apiKey: 'k'.repeat(20), apiKeyGenerated: false });
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ PORT: '9000' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      MONGODB_URI: 'postgres://x',
      API_KEY: 'short',
      OPENAI_BASE_URL: 'ftp://nowhere',
      SHUTDOWN_TIMEOUT_MS: '5',
      MONGODB_MEMORY_SERVER: 'maybe',
      MONGODB_DB: 'bad name',
    });
    expect(problems).toHaveLength(8);
    expect(problems.join('\n')).toMatch(/PORT must be an integer/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
    expect(problems.join('\n')).toMatch(/MONGODB_URI must start with mongodb:\/\//);
    expect(problems.join('\n')).toMatch(/API_KEY must be at least 16 characters/);
  });

  it('never echoes a secret in its problems', () => {
    const problems = problemsOf({ API_KEY: 'has space in it!!', MONGODB_URI: 'http://user:hunter2@db' });
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problems.join('\n')).not.toContain('has space');
  });

  it('rejects out-of-range ports', () => {
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT must be between 0 and 65535, got 70000']);
  });

  it('documents every option in the README configuration table', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const option of Object.values(CONFIG_OPTIONS)) expect(readme).toContain(`| \`${option.env}\``);
  });
});
