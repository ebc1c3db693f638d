import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { decodeSecretKey, resolveSecretKey } from '../../../src/config/secret-key.ts';
import { createLogger } from '../../../src/logging/logger.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-key-'));
  dirs.push(dir);
  return dir;
};

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('the secret key', () => {
  const key = randomBytes(32);

  it('is read as base64 (standard or URL-safe, padded or not) or 64 hex digits, and nothing else', () => {
    for (const written of [key.toString('base64'), key.toString('base64url'), key.toString('base64').replace(/=$/, ''), key.toString('hex'), ` ${key.toString('hex')}\n`]) {
      expect(Buffer.from(decodeSecretKey(written) ?? [])).toEqual(key);
    }
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), 'g'.repeat(64)]) expect(decodeSecretKey(bad)).toBeNull();
  });

  it('comes from PARLEY_SECRET_KEY and PARLEY_SECRET_KEY_PREVIOUS; a bad one is refused without being echoed', () => {
    const previous = [randomBytes(32), randomBytes(32)];
    const config = loadConfig({ PARLEY_SECRET_KEY: key.toString('base64'), PARLEY_SECRET_KEY_PREVIOUS: previous.map((k) => k.toString('hex')).join(',') });
    expect(Buffer.from(config.secretKey ?? [])).toEqual(key);
    expect(config.secretKeysPrevious.map((k) => Buffer.from(k))).toEqual(previous);
    expect(loadConfig({})).toMatchObject({ secretKey: undefined, secretKeysPrevious: [] });
    let message = '';
    try {
      loadConfig({ PARLEY_SECRET_KEY: 'not-a-key-hunter2', PARLEY_SECRET_KEY_PREVIOUS: `${key.toString('hex')},hunter3` });
    } catch (err) {
      message = err instanceof Error ? err.message : '';
    }
    expect(message).toMatch(/PARLEY_SECRET_KEY key 1 is not 32 bytes/);
    expect(message).toMatch(/PARLEY_SECRET_KEY_PREVIOUS key 2 is not 32 bytes/);
    expect(message).not.toMatch(/hunter/);
  });

  it('unset, is generated once into DATA_DIR/secret.key (mode 0600) with a warning that says where and what losing it costs', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const { logger, lines } = capture();
    const generated = await resolveSecretKey({ secretKey: undefined, dataDir }, logger);
    const file = path.join(dataDir, 'secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(decodeSecretKey(readFileSync(file, 'utf8')) ?? [])).toEqual(Buffer.from(generated));
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toContain(file);
    expect(warning?.msg).toMatch(/losing this file loses them/);
    expect(JSON.stringify(lines)).not.toContain(Buffer.from(generated).toString('base64'));

    const again = capture();
    expect(Buffer.from(await resolveSecretKey({ secretKey: undefined, dataDir }, again.logger))).toEqual(Buffer.from(generated));
    expect(again.lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('prefers PARLEY_SECRET_KEY and then writes no file; refuses a damaged key file; warns about one others can read', async () => {
    const dataDir = tempDir();
    expect(Buffer.from(await resolveSecretKey({ secretKey: key, dataDir }, capture().logger))).toEqual(key);
    expect(() => statSync(path.join(dataDir, 'secret.key'))).toThrow();

    writeFileSync(path.join(dataDir, 'secret.key'), 'damaged\n', { mode: 0o600 });
    await expect(resolveSecretKey({ secretKey: undefined, dataDir }, capture().logger)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    writeFileSync(path.join(dataDir, 'secret.key'), key.toString('hex'));
    chmodSync(path.join(dataDir, 'secret.key'), 0o644);
    const { logger, lines } = capture();
    expect(Buffer.from(await resolveSecretKey({ secretKey: undefined, dataDir }, logger))).toEqual(key);
    expect(lines.find((l) => l.level === 40)?.msg).toMatch(/readable by other users/);
  });
});
