import { bad, directory, flag, integer, ok, oneOf, optionalSecret, optionalUrl, origins, secretKeys } from './config-parsers.ts';
import { MEDIA_CONFIG_OPTIONS } from './media-config-options.ts';
import { PROVIDER_CONFIG_OPTIONS } from './provider-config-options.ts';
import { CLUSTER_CONFIG_OPTIONS } from './cluster-config-options.ts';
import { WEBHOOK_CONFIG_OPTIONS } from './webhook-config-options.ts';
import type { ConfigOption, Parsed } from './config-parsers.ts';

export type { ConfigOption, Parsed };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every setting Parley reads from the environment. The README table is checked against this list. */
export const CONFIG_OPTIONS = {
  port: {
    env: 'PORT',
    doc: 'TCP port of the REST API.',
    defaultText: '8080',
    parse: integer(0, 65535, 8080),
  },
  host: {
    env: 'HOST',
    doc: 'Interface to listen on; use 0.0.0.0 inside containers.',
    defaultText: '127.0.0.1',
    parse: (raw: string | undefined): Parsed<string> => {
      const v = raw?.trim() || '127.0.0.1';
      return /^[A-Za-z0-9.:[\]-]+$/.test(v) ? ok(v) : bad(`is not a host name or address: "${raw}"`);
    },
  },
  apiKey: {
    env: 'API_KEY',
    doc: 'Bearer token for every /v1 route (at least 16 characters). Generated and printed once when unset.',
    defaultText: 'generated',
    secret: true,
    parse: optionalSecret(16),
  },
  mongodbUri: {
    env: 'MONGODB_URI',
    doc: 'MongoDB connection string. Unset: an embedded store is started (see "Stores").',
    defaultText: 'unset',
    secret: true,
    parse: optionalUrl(['mongodb', 'mongodb+srv']),
  },
  mongodbDb: {
    env: 'MONGODB_DB',
    doc: 'Database name.',
    defaultText: 'parley',
    parse: (raw: string | undefined): Parsed<string> => {
      const v = raw?.trim() || 'parley';
      return /^[A-Za-z0-9_-]{1,63}$/.test(v) ? ok(v) : bad('must be 1-63 letters, digits, "_" or "-"');
    },
  },
  mongodbServerSelectionTimeoutMs: {
    env: 'MONGODB_SERVER_SELECTION_TIMEOUT_MS',
    doc: 'How long a store call waits for a usable server before it fails with STORE_UNAVAILABLE (503); the default outlasts a replica-set election (up to about 12 s). A `serverSelectionTimeoutMS` in MONGODB_URI wins.',
    defaultText: '30000',
    parse: integer(1000, 600_000, 30_000),
  },
  memoryServer: {
    env: 'MONGODB_MEMORY_SERVER',
    doc: 'Without MONGODB_URI: "auto" tries mongodb-memory-server (a real mongod) before the bundled store; "off" goes straight to the bundled store.',
    defaultText: 'auto',
    parse: oneOf(['auto', 'off'] as const, 'auto'),
  },
  openaiApiKey: {
    env: 'OPENAI_API_KEY',
    doc: 'Key for OpenAI or a compatible server; media is described/transcribed only when set.',
    defaultText: 'unset',
    secret: true,
    parse: optionalSecret(1),
  },
  openaiBaseUrl: {
    env: 'OPENAI_BASE_URL',
    doc: 'Base URL of an OpenAI-compatible API.',
    defaultText: 'https://api.openai.com/v1',
    parse: optionalUrl(['http', 'https']),
  },
  dataDir: {
    env: 'DATA_DIR',
    doc: 'Directory for local state (the embedded mongod keeps its files in DATA_DIR/mongodb).',
    defaultText: './data',
    parse: directory('./data'),
  },
  mediaDir: {
    env: 'MEDIA_DIR',
    doc: 'Directory where downloaded media is staged under GUID names.',
    defaultText: './data/media',
    parse: directory('./data/media'),
  },
  secretKey: {
    env: 'PARLEY_SECRET_KEY',
    doc: 'Key that encrypts secrets at rest (WhatsApp credentials): 32 bytes as base64 or 64 hex digits, e.g. `openssl rand -base64 32`. Unset: one is generated into DATA_DIR/secret.key with a warning; losing the key loses the credentials.',
    defaultText: 'DATA_DIR/secret.key',
    secret: true,
    parse: (raw: string | undefined): Parsed<Uint8Array | undefined> => {
      const parsed = secretKeys(raw);
      if (!parsed.ok) return parsed;
      if (parsed.value.length > 1) return bad('must be one key; earlier keys go in PARLEY_SECRET_KEY_PREVIOUS');
      return ok(parsed.value[0]);
    },
  },
  secretKeysPrevious: {
    env: 'PARLEY_SECRET_KEY_PREVIOUS',
    doc: 'Earlier secret keys, comma-separated, used only to decrypt while rotating: what they sealed is re-encrypted with PARLEY_SECRET_KEY (see docs/security.md).',
    defaultText: 'unset',
    secret: true,
    parse: secretKeys,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    doc: 'pino log level.',
    defaultText: 'info',
    parse: oneOf(LOG_LEVELS, 'info'),
  },
  shutdownTimeoutMs: {
    env: 'SHUTDOWN_TIMEOUT_MS',
    doc: 'Upper bound for a graceful stop on SIGTERM/SIGINT before the process exits anyway.',
    defaultText: '10000',
    parse: integer(100, 60_000, 10_000),
  },
  mediaWorkerConcurrency: {
    env: 'MEDIA_WORKER_CONCURRENCY',
    doc: 'Media jobs each built-in pool processes at once in this instance (video takes half); ignored with MEDIA_POOLS.',
    defaultText: '4',
    parse: integer(1, 256, 4),
  },
  ...MEDIA_CONFIG_OPTIONS,
  mediaJobLeaseMs: {
    env: 'MEDIA_JOB_LEASE_MS',
    doc: 'How long a claimed media job stays with its worker without a heartbeat; a job whose worker died is claimable again after this.',
    defaultText: '60000',
    parse: integer(1000, 3_600_000, 60_000),
  },
  outboxLeaseMs: {
    env: 'OUTBOX_LEASE_MS',
    doc: 'How long an outbound message being sent stays with its sender; the message of a sender that died is sent again after this (at least once).',
    defaultText: '60000',
    parse: integer(1000, 3_600_000, 60_000),
  },
  ...WEBHOOK_CONFIG_OPTIONS,
  ...PROVIDER_CONFIG_OPTIONS,
  ...CLUSTER_CONFIG_OPTIONS,
  mediaJobMaxAttempts: {
    env: 'MEDIA_JOB_MAX_ATTEMPTS',
    doc: 'Attempts a media job gets before it fails and its placeholder shows a note.',
    defaultText: '3',
    parse: integer(1, 100, 3),
  },
  inboundTextMaxChars: {
    env: 'INBOUND_TEXT_MAX_CHARS',
    doc: 'Longest inbound text or caption taken whole (WhatsApp allows 65536); the simulator route refuses longer ones with 400, providers\' longer ones are stored cut with " [truncated]".',
    defaultText: '65536',
    parse: integer(100, 65_536, 65_536),
  },
  maxBots: {
    env: 'MAX_BOTS',
    doc: 'Most bots this instance holds; creating one more answers 409 LIMIT_REACHED.',
    defaultText: '10000',
    parse: integer(1, 1_000_000, 10_000),
  },
  maxResidentQueues: {
    env: 'MAX_RESIDENT_QUEUES',
    doc: 'Most conversations kept in memory at once; beyond it the least recently used leave memory before their idle time (QUEUE_IDLE_MS).',
    defaultText: '20000',
    parse: integer(100, 10_000_000, 20_000),
  },
  queueIdleMs: {
    env: 'QUEUE_IDLE_MS',
    doc: 'A conversation untouched this long leaves memory (its queue is written and loaded again on its next message); restarts restore only conversations in memory.',
    defaultText: '600000',
    parse: integer(1000, 86_400_000, 600_000),
  },
  bodyLimitBytes: {
    env: 'BODY_LIMIT_BYTES',
    doc: 'Largest accepted request body in bytes on every route but the media-carrying ones (MEDIA_BODY_LIMIT_BYTES); larger bodies get 413 PAYLOAD_TOO_LARGE.',
    defaultText: '1048576',
    parse: integer(1024, 1024 * 1024 * 1024, 1024 * 1024),
  },
  mediaBodyLimitBytes: {
    env: 'MEDIA_BODY_LIMIT_BYTES',
    doc: 'Largest accepted request body in bytes on the routes that carry media (POST /v1/bots/:id/simulator/inbound).',
    defaultText: '26214400',
    parse: integer(1024, 1024 * 1024 * 1024, 25 * 1024 * 1024),
  },
  maxConcurrentLargeBodies: {
    env: 'MAX_CONCURRENT_LARGE_BODIES',
    doc: 'Request bodies larger than BODY_LIMIT_BYTES received at once; more get 429 TOO_MANY_LARGE_BODIES before their body is read.',
    defaultText: '4',
    parse: integer(1, 1024, 4),
  },
  httpRequestTimeoutMs: {
    env: 'HTTP_REQUEST_TIMEOUT_MS',
    doc: 'A request (headers and body) must have arrived within this many milliseconds; a slower one gets 408 and its connection is closed.',
    defaultText: '30000',
    parse: integer(1000, 3_600_000, 30_000),
  },
  httpHeadersTimeoutMs: {
    env: 'HTTP_HEADERS_TIMEOUT_MS',
    doc: 'A request\'s headers must have arrived within this many milliseconds (at most HTTP_REQUEST_TIMEOUT_MS).',
    defaultText: '10000',
    parse: integer(1000, 3_600_000, 10_000),
  },
  httpConnectionTimeoutMs: {
    env: 'HTTP_CONNECTION_TIMEOUT_MS',
    doc: 'A connection without traffic either way for this many milliseconds is closed; keep it above MONGODB_SERVER_SELECTION_TIMEOUT_MS so a slow answer still arrives.',
    defaultText: '60000',
    parse: integer(1000, 3_600_000, 60_000),
  },
  httpKeepAliveTimeoutMs: {
    env: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    doc: 'A kept-alive connection waiting for its next request is closed after this many milliseconds; behind a load balancer, set it above the balancer\'s idle timeout.',
    defaultText: '5000',
    parse: integer(1000, 600_000, 5_000),
  },
  maxEventStreams: {
    env: 'MAX_EVENT_STREAMS',
    doc: 'Event streams (/inspect/stream) open at once over all clients; more get 429 TOO_MANY_STREAMS.',
    defaultText: '32',
    parse: integer(1, 10_000, 32),
  },
  maxEventStreamsPerClient: {
    env: 'MAX_EVENT_STREAMS_PER_CLIENT',
    doc: 'Event streams open at once per client address; more get 429 TOO_MANY_STREAMS.',
    defaultText: '4',
    parse: integer(1, 10_000, 4),
  },
  rateLimitMax: {
    env: 'RATE_LIMIT_MAX',
    doc: 'Requests each API key (or, unauthenticated, each client address) may make to /v1 per window; more get 429 RATE_LIMITED.',
    defaultText: '600',
    parse: integer(1, 1_000_000, 600),
  },
  rateLimitWindowMs: {
    env: 'RATE_LIMIT_WINDOW_MS',
    doc: 'Length of the rate-limit window in milliseconds.',
    defaultText: '60000',
    parse: integer(1000, 86_400_000, 60_000),
  },
  authFailureLimit: {
    env: 'AUTH_FAILURE_LIMIT',
    doc: 'Failed authentications (wrong or missing key, on /v1, /inspect and the Stately bridge together) a client address may have per window; past it the address gets 429 RATE_LIMITED with Retry-After before its key is even checked. IPv6 addresses count per /64.',
    defaultText: '20',
    parse: integer(1, 1_000_000, 20),
  },
  authFailureWindowMs: {
    env: 'AUTH_FAILURE_WINDOW_MS',
    doc: 'Length of that failed-authentication window in milliseconds.',
    defaultText: '60000',
    parse: integer(1000, 86_400_000, 60_000),
  },
  inspect: {
    env: 'INSPECT',
    doc: '1 starts a WebSocket bridge to Stately\'s visual inspector (@statelyai/inspect) on INSPECT_PORT.',
    defaultText: '0',
    parse: (raw: string | undefined): Parsed<boolean> => {
      const v = raw?.trim().toLowerCase() ?? '';
      if (['', '0', 'false', 'off', 'no'].includes(v)) return ok(false);
      if (['1', 'true', 'on', 'yes'].includes(v)) return ok(true);
      return bad(`must be 1 or 0, got "${raw}"`);
    },
  },
  inspectPort: {
    env: 'INSPECT_PORT',
    doc: 'Port of the Stately inspector bridge.',
    defaultText: '8081',
    parse: integer(1, 65535, 8081),
  },
  inspectKey: {
    env: 'INSPECT_KEY',
    doc: 'A read-only key (at least 16 characters, not API_KEY) that opens /inspect and the Stately bridge and nothing under /v1: give it to whoever only watches.',
    defaultText: 'unset',
    secret: true,
    parse: optionalSecret(16),
  },
  inspectSessionTtlMs: {
    env: 'INSPECT_SESSION_TTL_MS',
    doc: 'How long the session cookie that /inspect?key= is exchanged for stays valid.',
    defaultText: '43200000',
    parse: integer(60_000, 30 * 86_400_000, 43_200_000),
  },
  inspectAllowedOrigins: {
    env: 'INSPECT_ALLOWED_ORIGINS',
    doc: 'Comma-separated origins, besides the bridge\'s own page, whose pages may connect to the Stately bridge (they must still present a key); "none" for none. Every other origin is refused at the upgrade.',
    defaultText: 'https://stately.ai',
    parse: origins(['https://stately.ai']),
  },
  inspectShowContent: {
    env: 'INSPECT_SHOW_CONTENT',
    doc: '1 lets the Stately bridge forward message bodies, captions and phone numbers as they are; by default it redacts them.',
    defaultText: '0',
    parse: flag,
  },
} satisfies Record<string, ConfigOption<unknown>>;

export type LogLevel = (typeof LOG_LEVELS)[number];
