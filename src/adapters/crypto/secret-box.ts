import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ParleyError } from '../../domain/errors.ts';
import type { SecretBox } from '../../ports/secret-box.port.ts';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A short public name for a key, stored with each envelope so the right key opens it after a
 * rotation. A hash of a random 256-bit key says nothing about the key.
 */
export function keyId(key: Uint8Array): string {
  return createHash('sha256').update('parley secret key id\0').update(key).digest('hex').slice(0, 16);
}

/**
 * AES-256-GCM with a random 96-bit IV per seal. The AAD binds the format version and the context
 * (record and purpose), so neither can be changed, nor the ciphertext moved, without the tag failing.
 * `previous` keys only open; everything is sealed with `current`.
 */
export function createSecretBox(current: Uint8Array, previous: readonly Uint8Array[] = []): SecretBox {
  const currentKid = keyId(current);
  const keys = new Map<string, Uint8Array>([...previous.map((k): [string, Uint8Array] => [keyId(k), k]), [currentKid, current]]);
  const aad = (context: string) => Buffer.from(`parley-secret\0v1\0${context}`, 'utf8');
  return {
    currentKid,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, current, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(context));
      const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { v: 1, kid: currentKid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    open(envelope, context) {
      const unreadable = (reason: string, cause?: unknown) => ParleyError.of('SECRET_UNREADABLE', { context, reason }, cause === undefined ? undefined : { cause });
      if (envelope.v !== 1) throw unreadable(`envelope version ${String(envelope.v)} is unknown`);
      const key = keys.get(envelope.kid);
      if (key === undefined) throw unreadable(`it was sealed with key ${envelope.kid}, which is neither PARLEY_SECRET_KEY nor in PARLEY_SECRET_KEY_PREVIOUS`);
      try {
        const iv = Buffer.from(envelope.iv, 'base64');
        const tag = Buffer.from(envelope.tag, 'base64');
        if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('IV or tag of the wrong length');
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(context));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
      } catch (err) {
        throw unreadable('it is damaged, was changed, or belongs to another record', err);
      }
    },
  };
}
