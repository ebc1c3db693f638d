import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkedLookup, createWebhookUrlPolicy, mappedIPv4, refusedAddressKind } from '../../../src/adapters/webhooks/address-policy.ts';
import { isParleyError } from '../../../src/domain/errors.ts';

describe('the WEBHOOK_DENY_PRIVATE address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['[::1]', 'loopback'],
    ['localhost', 'not an IP address'],
    ['93.184.216.34', null],
    ['172.32.0.1', null],
    ['100.128.0.1', null],
    ['11.0.0.1', null],
    ['2606:2800:220:1::', null],
    ['::ffff:93.184.216.34', null],
    ['fec0::1', null],
  ])('%s is %s', (address, kind) => {
    expect(refusedAddressKind(address)).toBe(kind);
  });

  it('reads IPv4-mapped IPv6 addresses in either notation', () => {
    expect(mappedIPv4('::ffff:192.168.0.1')).toBe('192.168.0.1');
    expect(mappedIPv4('0:0:0:0:0:ffff:c0a8:1')).toBe('192.168.0.1');
    expect(mappedIPv4('::1')).toBeNull();
    expect(mappedIPv4('10.0.0.1')).toBeNull();
  });

  const resolving = (...addresses: string[]) => async (): Promise<LookupAddress[]> => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const refusal = async (check: Promise<void>) => check.then(() => null, (err: unknown) => (isParleyError(err, 'WEBHOOK_URL_REFUSED') ? err.message : err));

  it('refuses at subscription a host that is, or resolves to any, refused address, and only when enabled', async () => {
    const policy = createWebhookUrlPolicy({ denyPrivate: true, resolve: resolving('93.184.216.34', '10.0.0.7') });
    expect(await refusal(policy.check('https://hooks.example/x'))).toBe('url: hooks.example resolves to 10.0.0.7, a private address (WEBHOOK_DENY_PRIVATE=1)');
    expect(await refusal(policy.check('http://127.0.0.1:9/'))).toBe('url: 127.0.0.1, a loopback address (WEBHOOK_DENY_PRIVATE=1)');
    expect(await refusal(policy.check('http://[::ffff:7f00:1]/'))).toMatch(/loopback/);
    expect(await refusal(createWebhookUrlPolicy({ denyPrivate: true, resolve: resolving('93.184.216.34') }).check('https://hooks.example/'))).toBeNull();
    expect(await refusal(createWebhookUrlPolicy({ denyPrivate: false, resolve: resolving('127.0.0.1') }).check('http://localhost/'))).toBeNull();
  });

  it('makes the connection lookup fail on any refused address and hand out only checked ones', async () => {
    const ask = (lookup: ReturnType<typeof checkedLookup>, all: boolean) =>
      new Promise<{ err: unknown; address: unknown }>((resolve) => lookup('hooks.example', { all }, (err, address) => resolve({ err, address })));
    const refused = await ask(checkedLookup(resolving('93.184.216.34', '::1'), true), true);
    expect(isParleyError(refused.err, 'WEBHOOK_URL_REFUSED')).toBe(true);
    expect(await ask(checkedLookup(resolving('93.184.216.34'), true), false)).toEqual({ err: null, address: '93.184.216.34' });
    expect(await ask(checkedLookup(resolving('93.184.216.34', '2606:2800:220:1::'), true), true)).toEqual({
      err: null, address: [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::', family: 6 }],
    });
    expect((await ask(checkedLookup(resolving('127.0.0.1'), false), false)).address).toBe('127.0.0.1');
  });
});
