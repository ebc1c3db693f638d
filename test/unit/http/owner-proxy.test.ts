import { describe, expect, it } from 'vitest';
import { targetUrl } from '../../../src/http/owner-proxy.ts';

describe('where a forwarded call goes', () => {
  it('appends the path and query to the owner\'s announced URL', () => {
    expect(targetUrl('http://10.0.0.7:3000', '/v1/bots/x/start?a=1')).toEqual({ protocol: 'http:', hostname: '10.0.0.7', port: '3000', path: '/v1/bots/x/start?a=1' });
    expect(targetUrl('https://parley-2.internal/base/', '/v1/bots/x')).toEqual({ protocol: 'https:', hostname: 'parley-2.internal', port: '', path: '/base/v1/bots/x' });
    expect(targetUrl('http://[::1]:8080', '/healthz')?.hostname).toBe('[::1]');
  });

  it('never lets the request pick the host, and takes plain http(s) URLs without credentials only', () => {
    expect(targetUrl('http://owner:3000', '//evil.example/v1')?.hostname).toBe('owner');
    expect(targetUrl('http://owner:3000', 'v1/bots')).toBeNull();
    for (const base of ['file:///etc/passwd', 'ftp://owner', 'http://user:pw@owner', 'not a url', '']) expect(targetUrl(base, '/v1/bots'), base).toBeNull();
  });
});
