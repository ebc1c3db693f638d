import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ParleyError } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';

/** Bytes of a secret key: AES-256. */
export const SECRET_KEY_BYTES = 32;

/** Name of the key file Parley generates in DATA_DIR when PARLEY_SECRET_KEY is unset. */
export const SECRET_KEY_FILE = 'secret.key';

/** A 32-byte key written as 64 hex digits or as base64 (standard or URL-safe, padding optional); null otherwise. */
export function decodeSecretKey(text: string): Uint8Array | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed, 'base64');
  return bytes.length === SECRET_KEY_BYTES ? bytes : null;
}

/**
 * The key that encrypts secrets at rest: PARLEY_SECRET_KEY when set, else the one in
 * `DATA_DIR/secret.key`, generated (mode 0600) on first start with a warning. The warning is loud
 * because that file is then the only way to read the stored credentials back.
 */
export async function resolveSecretKey(config: { readonly secretKey: Uint8Array | undefined; readonly dataDir: string }, logger: Logger): Promise<Uint8Array> {
  if (config.secretKey !== undefined) return config.secretKey;
  const file = path.join(config.dataDir, SECRET_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing !== null) {
    const { mode } = await stat(file);
    // Anyone who can read the file can read every stored credential.
    if ((mode & 0o077) !== 0) logger.warn({ file }, `${file} is readable by other users: chmod 600 it`);
    logger.info({ file }, `secret key: ${file} (PARLEY_SECRET_KEY unset)`);
    return existing;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(SECRET_KEY_BYTES);
  try {
    // `wx`: a second Parley starting on the same directory must not replace a key already in use.
    await writeFile(file, `${key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if (isCode(err, 'EEXIST')) return resolveSecretKey(config, logger);
    throw err;
  }
  await chmod(file, 0o600);
  logger.warn(
    { file },
    `PARLEY_SECRET_KEY is unset: generated a secret key into ${file}. It encrypts the WhatsApp credentials ` +
      'and other secrets Parley stores in MongoDB; losing this file loses them (every bot must be paired again). ' +
      'Back it up away from the database, or set PARLEY_SECRET_KEY (see docs/security.md).',
  );
  return key;
}

async function readKeyFile(file: string): Promise<Uint8Array | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isCode(err, 'ENOENT')) return null;
    throw err;
  }
  const key = decodeSecretKey(text);
  if (key === null) {
    throw ParleyError.of('CONFIG_INVALID', { problem: `${file} does not hold a ${SECRET_KEY_BYTES}-byte key (base64 or 64 hex digits); restore it from a backup or set PARLEY_SECRET_KEY` });
  }
  return key;
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && err.code === code;
}
