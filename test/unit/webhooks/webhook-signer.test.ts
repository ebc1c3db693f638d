import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookSecretProblem } from '../../../src/domain/webhook-events.ts';
import { deliveryIdOf, generateSecret, signature, signedHeaders } from '../../../src/runtime/webhooks/webhook-signer.ts';

const now = () => Math.floor(Date.now() / 1000);

describe('webhook signatures', () => {
  it('are accepted by the standardwebhooks verifier, for generated and given secrets of every allowed size', () => {
    const body = JSON.stringify({ type: 'message.received', timestamp: new Date().toISOString(), data: { content: 'hällo ✓ "quoted"' } });
    const secrets = [generateSecret(), ...[24, 32, 64].map((n) => `whsec_${randomBytes(n).toString('base64')}`)];
    for (const secret of secrets) {
      const headers = signedHeaders(secret, 'msg_0123456789abcdef', now(), body);
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
  });

  it('are refused by the verifier for another body, id, timestamp or secret', () => {
    const secret = generateSecret();
    const body = '{"type":"bot.state","data":{"state":"connected"}}';
    const ts = now();
    const headers = signedHeaders(secret, 'msg_1', ts, body);
    const verify = (b: string, h: Record<string, string>, s = secret) => () => new Webhook(s).verify(b, h);
    expect(verify(`${body} `, headers)).toThrow(/No matching signature/);
    expect(verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(/No matching signature/);
    expect(verify(body, { ...headers, 'webhook-timestamp': String(ts - 1) })).toThrow(/No matching signature/);
    expect(verify(body, headers, generateSecret())).toThrow(/No matching signature/);
  });

  it('sign "{id}.{timestamp}.{body}" with HMAC-SHA256 keyed by the decoded secret, as v1,<base64>', () => {
    // The key is the base64-decoded part after whsec_, not the text of the secret.
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    expect(signature(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'))
      .toBe(new Webhook(secret).sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}'));
    expect(signature(secret, 'id', 1, 'body')).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('generates secrets of 32 random bytes in the whsec_ format, never the same twice', () => {
    const a = generateSecret();
    expect(webhookSecretProblem(a)).toBeNull();
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it('derives one delivery id per (subscription, event), so publishing an event again names the same delivery', () => {
    expect(deliveryIdOf('wh_a', 'message.received:x')).toBe(deliveryIdOf('wh_a', 'message.received:x'));
    expect(deliveryIdOf('wh_a', 'message.received:x')).not.toBe(deliveryIdOf('wh_b', 'message.received:x'));
    expect(deliveryIdOf('wh_a', 'message.received:x')).not.toBe(deliveryIdOf('wh_a', 'message.received:y'));
    // The separator keeps (a|b, c) and (a, b|c) apart only if ids never contain it; subscription ids never do.
    expect(deliveryIdOf('wh_a', 'e')).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
