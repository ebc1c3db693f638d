import { promises as dns } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { ParleyError } from '../../domain/errors.ts';
import type { WebhookUrlPolicy } from '../../ports/webhook-sender.port.ts';

/** Every address a host name resolves to; tests stand in for DNS with their own. */
export type Resolve = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * Addresses a receiver must not be on under WEBHOOK_DENY_PRIVATE: what reaches this host or its
 * networks rather than the internet. IPv4-mapped IPv6 forms are classified as the IPv4 address.
 */
const REFUSED_RANGES: readonly (readonly [network: string, prefix: number, kind: string])[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local'],
  ['fe80::', 10, 'link-local'],
];
const RANGES = REFUSED_RANGES.map(([network, prefix, kind]) => {
  const family = network.includes(':') ? ('ipv6' as const) : ('ipv4' as const);
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, kind };
});

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`), if it is one. */
export function mappedIPv4(address: string): string | null {
  if (isIP(address) !== 6) return null;
  // The URL parser writes every IPv6 address in one canonical form, the mapped ones as `::ffff:hhhh:hhhh`.
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1).toLowerCase();
  const match = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (match === null) return null;
  const high = Number.parseInt(match[1]!, 16);
  const low = Number.parseInt(match[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/**
 * What kind of refused address `address` is (`loopback`, `private`, ...), or `null` when it is
 * public. Anything that is not an IP address at all is refused too: a policy that cannot read an
 * address does not let it through.
 */
export function refusedAddressKind(address: string): string | null {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const mapped = mappedIPv4(bare);
  const ip = mapped ?? bare;
  const family = isIP(ip) === 4 ? 'ipv4' : isIP(ip) === 6 ? 'ipv6' : null;
  if (family === null) return 'not an IP address';
  return RANGES.find((r) => r.family === family && r.list.check(ip, family))?.kind ?? null;
}

/** The error a refused address raises, at subscription and inside a connection's lookup alike. */
export function addressRefused(host: string, address: string, kind: string): ParleyError {
  const where = host === address ? address : `${host} resolves to ${address}`;
  return ParleyError.of('WEBHOOK_URL_REFUSED', { reason: `${where}, a ${kind} address (WEBHOOK_DENY_PRIVATE=1)` });
}

const hostOf = (url: URL): string => (url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname);

/**
 * The subscription-time check of WEBHOOK_DENY_PRIVATE: the URL's host, or every address it
 * resolves to now, must be public. A host that does not resolve is let through: every delivery
 * resolves it again and connects only to an address that passed (see `checkedLookup`).
 */
export function createWebhookUrlPolicy(options: { readonly denyPrivate: boolean; readonly resolve?: Resolve }): WebhookUrlPolicy {
  const resolve = options.resolve ?? systemResolve;
  return {
    async check(url) {
      if (!options.denyPrivate) return;
      const host = hostOf(new URL(url));
      const addresses = isIP(host) === 0 ? await resolve(host).catch(() => []) : [{ address: host, family: isIP(host) }];
      for (const { address } of addresses) {
        const kind = refusedAddressKind(address);
        if (kind !== null) throw addressRefused(host, address, kind);
      }
    },
  };
}

/**
 * A `lookup` for `http.request` that resolves with `resolve` and, when `denyPrivate`, fails the
 * connection if any address is refused. The socket connects to an address this function handed
 * out, so a DNS answer that changes between the check and the connection cannot slip through.
 */
export function checkedLookup(resolve: Resolve, denyPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const addresses = all.filter((a) => family === 0 || a.family === family);
        if (denyPrivate) {
          for (const { address } of all) {
            const kind = refusedAddressKind(address);
            if (kind !== null) return callback(addressRefused(hostname, address, kind), '');
          }
        }
        const first = addresses[0];
        if (first === undefined) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
        if (options.all === true) return callback(null, [...addresses]);
        return callback(null, first.address, first.family);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), ''),
    );
  };
}
