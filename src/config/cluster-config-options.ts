import { hostname } from 'node:os';
import { bad, integer, ok, optionalUrl } from './config-parsers.ts';
import type { Parsed } from './config-parsers.ts';

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** The host name as an instance id: stable across restarts of one host or container. */
function defaultInstanceId(): string {
  const name = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100);
  return name === '' ? 'parley' : name;
}

/** Several instances on one store (scale-out): identity, leases, placement. Part of `CONFIG_OPTIONS`. */
export const CLUSTER_CONFIG_OPTIONS = {
  instanceId: {
    env: 'INSTANCE_ID',
    doc: 'This instance\'s id among those sharing the store (letters, digits, `.`, `_`, `-`). Each instance needs its own; a restart under the same id takes its bots back at once instead of after their leases lapse.',
    defaultText: 'the host name',
    parse: (raw: string | undefined): Parsed<string> => {
      const v = raw?.trim() ?? '';
      if (v === '') return ok(defaultInstanceId());
      return INSTANCE_ID.test(v) ? ok(v) : bad(`must be 1-100 letters, digits, ".", "_" or "-", got "${raw}"`);
    },
  },
  instanceUrl: {
    env: 'INSTANCE_URL',
    doc: 'Where other instances reach this one\'s REST API (calls for bots hosted here are forwarded to it), e.g. `http://parley-1:8080`.',
    defaultText: 'the listen address',
    parse: optionalUrl(['http', 'https']),
  },
  ownershipLeaseMs: {
    env: 'OWNERSHIP_LEASE_MS',
    doc: 'How long a bot\'s ownership lease lives unrenewed (renewed every third of it). An instance that stops renewing loses its bots after this plus the takeover delay; a paused one writes nothing once it ran out.',
    defaultText: '15000',
    parse: integer(1000, 600_000, 15_000),
  },
  ownershipTakeoverDelayMs: {
    env: 'OWNERSHIP_TAKEOVER_DELAY_MS',
    doc: 'How long a lapsed lease waits before another instance takes the bot (room for a late renewal and for clocks that differ a little).',
    defaultText: '2000',
    parse: integer(0, 600_000, 2000),
  },
  maxBotsPerInstance: {
    env: 'MAX_BOTS_PER_INSTANCE',
    doc: 'Most bots this instance hosts at once (0: no limit). Bots are spread evenly by count within this limit; a bot no instance has room for runs nowhere until one has.',
    defaultText: '0',
    parse: integer(0, 1_000_000, 0),
  },
  workPollMs: {
    env: 'WORK_POLL_MS',
    doc: 'How often workers look for work another instance queued (media jobs, outgoing messages, webhook deliveries, results to deliver); work queued on this instance is picked up at once.',
    defaultText: '1000',
    parse: integer(50, 60_000, 1000),
  },
} as const;
