import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, keyId } from '../../../src/adapters/crypto/secret-box.ts';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const refusal = (open: () => unknown): unknown => {
  try {
    open();
  } catch (err) {
    return err;
  }
  throw new Error('the envelope opened');
};

describe('secret box', () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);

  it('seals into a versioned envelope with a fresh 96-bit IV each time, and opens it under the same context', () => {
    const first = box.seal(Buffer.from('app secret'), 'cloud-api:bot-a|appSecret');
    const second = box.seal(Buffer.from('app secret'), 'cloud-api:bot-a|appSecret');
    expect(first).toEqual({ v: 1, kid: keyId(key), iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
    expect(Buffer.from(first.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(first.tag, 'base64')).toHaveLength(16);
    expect(second.iv).not.toBe(first.iv);
    expect(second.data).not.toBe(first.data);
    expect(JSON.stringify(first)).not.toContain('app secret');
    expect(text(box.open(first, 'cloud-api:bot-a|appSecret'))).toBe('app secret');
  });

  it('refuses an envelope moved to another record, changed, or sealed by an unknown key', () => {
    const envelope = box.seal(Buffer.from('token'), 'auth-state:a|creds|me');
    expect(refusal(() => box.open(envelope, 'auth-state:b|creds|me'))).toMatchObject({ code: 'SECRET_UNREADABLE' });
    const flipped = Buffer.from(envelope.data, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(refusal(() => box.open({ ...envelope, data: flipped.toString('base64') }, 'auth-state:a|creds|me'))).toMatchObject({ code: 'SECRET_UNREADABLE' });
    expect(refusal(() => box.open({ ...envelope, iv: Buffer.alloc(12).toString('base64') }, 'auth-state:a|creds|me'))).toMatchObject({ code: 'SECRET_UNREADABLE' });
    expect(refusal(() => createSecretBox(randomBytes(32)).open(envelope, 'auth-state:a|creds|me'))).toMatchObject({
      code: 'SECRET_UNREADABLE',
      message: expect.stringContaining(`sealed with key ${keyId(key)}`),
    });
  });

  it('rotates: previous keys open what they sealed, only the current key seals', () => {
    const old = box.seal(Buffer.from('old'), 'ctx');
    const rotated = createSecretBox(randomBytes(32), [key]);
    expect(text(rotated.open(old, 'ctx'))).toBe('old');
    expect(rotated.currentKid).not.toBe(keyId(key));
    expect(rotated.seal(Buffer.from('new'), 'ctx').kid).toBe(rotated.currentKid);
  });
});
