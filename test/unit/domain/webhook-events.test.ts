import { describe, expect, it } from 'vitest';
import { eventBody, wantsEvent, webhookSecretProblem, webhookUrlProblem } from '../../../src/domain/webhook-events.ts';

const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');

describe('webhook subscriptions', () => {
  it.each([
    [`whsec_${b64(24)}`, null],
    [`whsec_${b64(32)}`, null],
    [`whsec_${b64(64)}`, null],
    [`whsec_${b64(23)}`, 'must encode 24 to 64 bytes, not 23'],
    [`whsec_${b64(65)}`, 'must encode 24 to 64 bytes, not 65'],
    [b64(32), 'must start with whsec_'],
    ['whsec_', 'must be whsec_ followed by standard base64'],
    [`whsec_${b64(32).slice(0, 20)}=${b64(32).slice(21)}`, 'must be whsec_ followed by standard base64'],
    [`whsec_${b64(32).replace(/=$/, '')}`, 'must be whsec_ followed by standard base64'],
    [`whsec_${Buffer.alloc(32, 250).toString('base64url')}`, 'must be whsec_ followed by standard base64'],
    [`whsec_${b64(32)} `, 'must be whsec_ followed by standard base64'],
  ])('secret %s: %s', (secret, problem) => {
    expect(webhookSecretProblem(secret)).toBe(problem);
  });

  it.each([
    ['https://example.com/hook?x=1', null],
    ['http://127.0.0.1:8080/', null],
    ['http://[::1]:9000/events', null],
    ['ftp://example.com/', 'must be an http or https URL'],
    ['javascript:alert(1)', 'must be an http or https URL'],
    ['https://user:pw@example.com/', 'must not carry credentials'],
    ['https://token@example.com/', 'must not carry credentials'],
    ['/relative', 'must be an absolute URL'],
    ['not a url', 'must be an absolute URL'],
  ])('url %s: %s', (url, problem) => {
    expect(webhookUrlProblem(url)).toBe(problem);
  });

  it('matches events by type or by *', () => {
    expect(wantsEvent(['message.received'], 'message.received')).toBe(true);
    expect(wantsEvent(['message.received'], 'bot.state')).toBe(false);
    expect(wantsEvent(['*'], 'media.failed')).toBe(true);
  });

  it('writes the body as {type, timestamp (ISO), data}', () => {
    expect(eventBody({ id: 'e', type: 'bot.state', at: Date.UTC(2026, 0, 2, 3, 4, 5), data: { botId: 'b', state: 'connected' } }))
      .toBe('{"type":"bot.state","timestamp":"2026-01-02T03:04:05.000Z","data":{"botId":"b","state":"connected"}}');
  });
});
