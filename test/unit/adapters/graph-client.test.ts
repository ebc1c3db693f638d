import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GraphError, classifyGraphError, createGraphClient } from '../../../src/adapters/cloud-api/graph-client.ts';
import type { GraphClient, GraphErrorKind, GraphSettings } from '../../../src/adapters/cloud-api/graph-client.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { MediaTooLargeError } from '../../../src/ports/media-store.port.ts';
import { DEFAULT_STAGING_LIMITS, createMediaStaging } from '../../../src/runtime/media-jobs/media-staging.ts';
import { MAX_TEXT_BODY, signWebhook, startFakeGraph } from '../../support/fake-graph-server.ts';
import type { FakeGraph } from '../../support/fake-graph-server.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';

const TOKEN = `EAAG${randomBytes(24).toString('hex')}`;
const PHONE_NUMBER_ID = '106540352242922';
const VERSION = 'v23.0';

let graph: FakeGraph;
let client: GraphClient;
/** Every error a test saw, checked at the end for the token. */
const seen: unknown[] = [];

const settings = (overrides: Partial<GraphSettings> = {}): GraphSettings => ({
  phoneNumberId: PHONE_NUMBER_ID,
  accessToken: TOKEN,
  graphBaseUrl: `${graph.baseUrl}/`,
  apiVersion: VERSION,
  ...overrides,
});

/** The rejection of `promise`, recorded for the token check. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  seen.push(error);
  return error;
}

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(GraphError);
  return error as GraphError;
}

/** Reads the stream chunk by chunk; `chunks` tells it was a stream, not one buffer. */
async function drain(stream: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

const downloads = (mediaId: string) => graph.calls.filter((call) => call.path === `/media/${mediaId}`);

beforeAll(async () => {
  graph = await startFakeGraph({ accessToken: TOKEN, phoneNumberId: PHONE_NUMBER_ID });
  client = createGraphClient(settings());
});

afterAll(async () => {
  await graph.close();
});

afterEach(() => {
  graph.scriptSends(); // nothing left over: each test scripts its own answers
});

describe('sendText', () => {
  it('posts the text as Meta expects and resolves with the wamid', async () => {
    const { wamid } = await client.sendText('4915112345678', 'Hello there');
    expect(wamid).toMatch(/^wamid\./);
    expect(graph.sent.at(-1)).toEqual({ to: '4915112345678', text: 'Hello there', wamid });
    const call = graph.calls.at(-1)!;
    expect(call).toMatchObject({ method: 'POST', path: `/${VERSION}/${PHONE_NUMBER_ID}/messages`, authorization: `Bearer ${TOKEN}` });
    expect(call.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4915112345678',
      type: 'text',
      text: { body: 'Hello there', preview_url: false },
    });
  });

  it('a 500 is transient', async () => {
    graph.scriptSends({ status: 500, error: { code: 1, message: 'An unknown error occurred' } });
    const error = await graphError(client.sendText('4915112345678', 'hi'));
    expect(error).toMatchObject({ kind: 'transient', httpStatus: 500, code: 1 });
  });

  it('a 500 without a body is transient', async () => {
    graph.scriptSends({ status: 503 });
    expect(await graphError(client.sendText('4915112345678', 'hi'))).toMatchObject({ kind: 'transient', httpStatus: 503, code: null, message: 'HTTP 503' });
  });

  it('a 429 with code 130429 is rate-limited, waiting as Retry-After asks', async () => {
    graph.scriptSends({ status: 429, retryAfter: '7', error: { code: 130429, message: '(#130429) Rate limit hit', details: 'Cloud API message throughput has been reached.' } });
    const error = await graphError(client.sendText('4915112345678', 'hi'));
    expect(error).toMatchObject({ kind: 'rate-limited', httpStatus: 429, code: 130429, retryAfterMs: 7_000 });
    expect(error.message).toBe('130429 Rate limit hit: Cloud API message throughput has been reached.');
  });

  it('a pair rate limit without Retry-After waits a minute', async () => {
    graph.scriptSends({ status: 400, error: { code: 131056, message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' } });
    expect(await graphError(client.sendText('4915112345678', 'hi'))).toMatchObject({ kind: 'rate-limited', code: 131056, retryAfterMs: 60_000 });
  });

  it('a closed 24 h window (131047) is permanent and says so', async () => {
    const details = 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.';
    graph.scriptSends({ status: 400, error: { code: 131047, message: '(#131047) Re-engagement message', details } });
    const error = await graphError(client.sendText('4915112345678', 'hi'));
    expect(error).toMatchObject({ kind: 'permanent', httpStatus: 400, code: 131047, retryAfterMs: null });
    expect(error.message).toContain('131047');
    expect(error.message).toBe(`131047 Re-engagement message: ${details}`);
  });

  it('a text over 4,096 characters is refused as an invalid parameter (permanent)', async () => {
    const error = await graphError(client.sendText('4915112345678', 'x'.repeat(MAX_TEXT_BODY + 1)));
    expect(error).toMatchObject({ kind: 'permanent', code: 100 });
    expect(error.message).toContain('4096');
  });

  it('401 code 190 is auth', async () => {
    const wrong = createGraphClient(settings({ accessToken: 'EAAGwrong-token' }));
    const error = await graphError(wrong.sendText('4915112345678', 'hi'));
    expect(error).toMatchObject({ kind: 'auth', httpStatus: 401, code: 190 });
    expect(error.message).not.toContain('EAAGwrong-token');
  });

  it('a token Graph echoes back never reaches the message', async () => {
    graph.scriptSends({ status: 401, error: { code: 190, message: `Malformed access token ${TOKEN}` } });
    const error = await graphError(client.sendText('4915112345678', 'hi'));
    expect(error.kind).toBe('auth');
    expect(error.message).toBe('190 Access token expired or invalid: Malformed access token [redacted]');
  });

  it('a network error (closed port) is transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = createGraphClient(settings({ graphBaseUrl: `http://127.0.0.1:${port}` }));
    const error = await graphError(offline.sendText('4915112345678', 'hi'));
    expect(error).toMatchObject({ kind: 'transient', httpStatus: null });
    expect(error.message).toBe('network error (ECONNREFUSED)');
  });

  it('a dropped connection is transient', async () => {
    graph.scriptSends('drop');
    expect(await graphError(client.sendText('4915112345678', 'hi'))).toMatchObject({ kind: 'transient', httpStatus: null });
  });

  it('a server that never answers times out as transient', async () => {
    graph.scriptSends('hang');
    const impatient = createGraphClient(settings(), { timeoutMs: 200 });
    const started = Date.now();
    const error = await graphError(impatient.sendText('4915112345678', 'hi'));
    expect(error).toMatchObject({ kind: 'transient', httpStatus: null, message: 'timeout after 200 ms' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("the caller's abort rejects with its reason, not a GraphError", async () => {
    graph.scriptSends('hang');
    const controller = new AbortController();
    const pending = client.sendText('4915112345678', 'hi', controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const error = await rejection(pending);
    expect(error).not.toBeInstanceOf(GraphError);
    expect((error as Error).message).toBe('shutting down');
  });
});

describe('phoneNumber', () => {
  it('reads the display number and verified name with the bearer token', async () => {
    expect(await client.phoneNumber()).toEqual({ displayPhoneNumber: '+1 555 0100', verifiedName: 'Test Shop' });
    expect(graph.calls.at(-1)).toMatchObject({ method: 'GET', path: `/${VERSION}/${PHONE_NUMBER_ID}`, authorization: `Bearer ${TOKEN}` });
  });

  it('a wrong token is auth', async () => {
    const wrong = createGraphClient(settings({ accessToken: 'nope-nope-nope' }));
    expect(await graphError(wrong.phoneNumber())).toMatchObject({ kind: 'auth', code: 190 });
  });
});

describe('downloadMedia', () => {
  const bytes = randomBytes(200 * 1024 + 17);

  it('streams the bytes with the bearer token', async () => {
    graph.addMedia('media-ok', bytes, 'image/jpeg');
    const stream = await client.downloadMedia('media-ok', { maxBytes: 1024 ** 2 });
    const { bytes: got, chunks } = await drain(stream);
    expect(got.equals(bytes)).toBe(true);
    expect(chunks).toBeGreaterThan(1);
    expect(graph.calls.filter((call) => call.path === `/${VERSION}/media-ok`)).toHaveLength(1);
    expect(downloads('media-ok')).toMatchObject([{ method: 'GET', authorization: `Bearer ${TOKEN}` }]);
  });

  it('a file_size over maxBytes is too large, before any download', async () => {
    graph.addMedia('media-big', bytes, 'video/mp4');
    const error = await rejection(client.downloadMedia('media-big', { maxBytes: 1024 }));
    expect(error).toBeInstanceOf(MediaTooLargeError);
    expect((error as MediaTooLargeError).maxBytes).toBe(1024);
    expect(downloads('media-big')).toHaveLength(0);
  });

  it('a stream longer than announced stops at maxBytes', async () => {
    graph.addMedia('media-liar', bytes, 'video/mp4', { fileSize: 10 });
    // content-length gives it away before the body is read
    expect(await rejection(client.downloadMedia('media-liar', { maxBytes: 1024 }))).toBeInstanceOf(MediaTooLargeError);
  });

  it('bytes whose sha256 is not the announced one error the stream at its end', async () => {
    graph.addMedia('media-corrupt', bytes, 'image/jpeg', { sha256: createHash('sha256').update('something else').digest('hex') });
    const stream = await client.downloadMedia('media-corrupt', { maxBytes: 1024 ** 2 });
    let received = 0;
    const error = await graphError(
      (async () => {
        for await (const chunk of stream) received += chunk.byteLength;
      })(),
    );
    expect(error).toMatchObject({ kind: 'transient', message: 'media sha256 mismatch' });
    expect(received).toBe(bytes.byteLength);
  });

  it('bytes fewer or more than the announced file_size error the stream', async () => {
    graph.addMedia('media-short', bytes, 'image/jpeg', { fileSize: bytes.byteLength + 1 });
    const error = await graphError(drain(await client.downloadMedia('media-short', { maxBytes: 1024 ** 2 })));
    expect(error).toMatchObject({ kind: 'transient' });
    expect(error.message).toContain('size mismatch');
  });

  it('a stream without content-length is cut off at maxBytes', async () => {
    graph.addMedia('media-chunked', bytes, 'video/mp4', { fileSize: 10 });
    // A proxy in between that drops content-length: only the running count can tell.
    const chunked = createGraphClient(settings(), {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const headers = new Headers(response.headers);
        headers.delete('content-length');
        return new Response(response.body, { status: response.status, headers });
      },
    });
    const stream = await chunked.downloadMedia('media-chunked', { maxBytes: 50_000 });
    let received = 0;
    const error = await rejection(
      (async () => {
        for await (const chunk of stream) received += chunk.byteLength;
      })(),
    );
    expect(error).toBeInstanceOf(MediaTooLargeError);
    expect(received).toBeLessThanOrEqual(50_000);
  });

  it('a download that stalls mid-stream times out as transient', async () => {
    graph.addMedia('media-stall', bytes, 'image/jpeg');
    // The bytes' first chunk arrives, then nothing; the body errors when the fetch signal aborts, as undici's does.
    const stalling = createGraphClient(settings(), {
      timeoutMs: 200,
      fetch: async (input, init) => {
        if (!String(input).includes('/media/')) return fetch(input, init);
        const signal = init?.signal ?? undefined;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes.subarray(0, 1000));
            signal?.addEventListener('abort', () => controller.error(signal.reason));
          },
        });
        return new Response(body, { status: 200 });
      },
    });
    const stream = await stalling.downloadMedia('media-stall', { maxBytes: 1024 ** 2 });
    const error = await graphError(drain(stream));
    expect(error).toMatchObject({ kind: 'transient', message: 'timeout after 200 ms' });
  });

  it("the caller's abort mid-stream rejects with its reason", async () => {
    graph.addMedia('media-abort', bytes, 'image/jpeg');
    const controller = new AbortController();
    const stream = await client.downloadMedia('media-abort', { maxBytes: 1024 ** 2, signal: controller.signal });
    const error = await rejection(
      (async () => {
        for await (const _chunk of stream) controller.abort(new Error('job cancelled'));
      })(),
    );
    expect(error).not.toBeInstanceOf(GraphError);
    expect((error as Error).message).toBe('job cancelled');
  });

  it('a base64 sha256 (as webhooks carry it) is checked too', async () => {
    graph.addMedia('media-b64', bytes, 'image/jpeg', { sha256: createHash('sha256').update(bytes).digest('base64') });
    const { bytes: got } = await drain(await client.downloadMedia('media-b64', { maxBytes: 1024 ** 2 }));
    expect(got.equals(bytes)).toBe(true);
  });

  it('a download answered 404 is permanent', async () => {
    graph.addMedia('media-gone', bytes, 'image/jpeg');
    graph.failDownload('media-gone', 404);
    expect(await graphError(client.downloadMedia('media-gone', { maxBytes: 1024 ** 2 }))).toMatchObject({ kind: 'permanent', httpStatus: 404 });
  });

  it('a download answered 500 is transient, and the next try succeeds', async () => {
    graph.addMedia('media-flaky', bytes, 'image/jpeg');
    graph.failDownload('media-flaky', 500);
    expect(await graphError(client.downloadMedia('media-flaky', { maxBytes: 1024 ** 2 }))).toMatchObject({ kind: 'transient', httpStatus: 500 });
    const { bytes: got } = await drain(await client.downloadMedia('media-flaky', { maxBytes: 1024 ** 2 }));
    expect(got.equals(bytes)).toBe(true);
  });

  it('an unknown media id is permanent (400 code 100)', async () => {
    const error = await graphError(client.downloadMedia('no-such-media', { maxBytes: 1024 ** 2 }));
    expect(error).toMatchObject({ kind: 'permanent', httpStatus: 400, code: 100 });
    expect(downloads('no-such-media')).toHaveLength(0);
  });

  it('a wrong token is auth at the lookup', async () => {
    graph.addMedia('media-auth', bytes, 'image/jpeg');
    const wrong = createGraphClient(settings({ accessToken: 'EAAGother' }));
    expect(await graphError(wrong.downloadMedia('media-auth', { maxBytes: 1024 ** 2 }))).toMatchObject({ kind: 'auth', code: 190 });
  });
});

describe('Cloud API media through the staging area', () => {
  const bytes = randomBytes(100 * 1024);
  const staging = async () => {
    const store = createMemoryMediaStore();
    const s = createMediaStaging({ store, limits: { ...DEFAULT_STAGING_LIMITS, downloadBackoff: { baseMs: 1, maxMs: 2, jitter: 0 } }, logger: createLogger('silent') });
    await s.init();
    return { s, store };
  };
  const source = (mediaId: string, maxBytes = DEFAULT_STAGING_LIMITS.maxFileBytes) => ({ sizeBytes: null, download: () => client.downloadMedia(mediaId, { maxBytes }) });

  it('stages the streamed bytes after a transient 500', async () => {
    graph.addMedia('staged-flaky', bytes, 'audio/ogg');
    graph.failDownload('staged-flaky', 500);
    const { s } = await staging();
    const outcome = await s.stage(source('staged-flaky'));
    expect(outcome).toMatchObject({ status: 'staged', sizeBytes: bytes.byteLength });
    if (outcome.status !== 'staged') throw new Error('not staged');
    expect(Buffer.from((await s.read(outcome.key)) ?? []).equals(bytes)).toBe(true);
  });

  it('keeps nothing of corrupt bytes and names the reason', async () => {
    graph.addMedia('staged-corrupt', bytes, 'audio/ogg', { sha256: '0'.repeat(64) });
    const { s, store } = await staging();
    const outcome = await s.stage(source('staged-corrupt'));
    expect(outcome).toEqual({ status: 'failed', reason: 'the download failed 3 times (media sha256 mismatch)' });
    expect(store.files.size).toBe(0);
    expect(s.stagedBytes()).toBe(0);
  });

  it('a file over the cap fails as too large without a retry or a download', async () => {
    graph.addMedia('staged-big', bytes, 'video/mp4', { fileSize: DEFAULT_STAGING_LIMITS.maxFileBytes + 1 });
    const { s } = await staging();
    const outcome = await s.stage(source('staged-big'));
    expect(outcome).toEqual({ status: 'failed', reason: 'the file is larger than the 64 MB limit' });
    expect(graph.calls.filter((call) => call.path === `/${VERSION}/staged-big`)).toHaveLength(1);
    expect(downloads('staged-big')).toHaveLength(0);
  });
});

describe('a media URL that would leak the token', () => {
  let evil: Server;
  let evilBase: string;
  beforeAll(async () => {
    evil = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: 'http://attacker.example/steal?x=1', mime_type: 'image/jpeg', id: 'm' }));
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilBase = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => evil.close(() => resolve()));
  });

  it('is refused when it is neither https nor Graph itself', async () => {
    const victim = createGraphClient(settings({ graphBaseUrl: evilBase }));
    const error = await graphError(victim.downloadMedia('m', { maxBytes: 1024 }));
    expect(error.kind).toBe('permanent');
    expect(error.message).not.toContain('x=1');
  });
});

describe('classifyGraphError', () => {
  const body = (code: number, extra: Record<string, unknown> = {}) => ({ error: { message: `(#${code}) message ${code}`, type: 'OAuthException', code, fbtrace_id: 'x', ...extra } });
  const cases: readonly [name: string, status: number | null, body: unknown, retryAfter: string | null, kind: GraphErrorKind, retryAfterMs: number | null][] = [
    ['network', null, null, null, 'transient', null],
    ['500 without a body', 500, null, null, 'transient', null],
    ['502 with HTML', 502, '<html>bad gateway</html>', null, 'transient', null],
    ['503 with Retry-After', 503, null, '5', 'transient', 5_000],
    ['429 without a code', 429, null, null, 'rate-limited', 30_000],
    ['429 code 130429 with Retry-After', 429, body(130429), '12', 'rate-limited', 12_000],
    ['400 code 4', 400, body(4), null, 'rate-limited', 30_000],
    ['400 code 80007', 400, body(80007), null, 'rate-limited', 30_000],
    ['400 code 613', 400, body(613), null, 'rate-limited', 30_000],
    ['400 code 131056', 400, body(131056), null, 'rate-limited', 60_000],
    ['400 code 131056 with Retry-After', 400, body(131056), '3', 'rate-limited', 3_000],
    ['401 code 190', 401, body(190), null, 'auth', null],
    ['400 code 190', 400, body(190, { error_subcode: 463 }), null, 'auth', null],
    ['401 without a body', 401, null, null, 'auth', null],
    ['403 code 10', 403, body(10), null, 'auth', null],
    ['403 code 200', 403, body(200), null, 'auth', null],
    ['400 code 131047', 400, body(131047), null, 'permanent', null],
    ['400 code 131026', 400, body(131026), null, 'permanent', null],
    ['400 code 100', 400, body(100), null, 'permanent', null],
    ['404 without a body', 404, null, null, 'permanent', null],
    ['400 code 131000', 400, body(131000), null, 'transient', null],
    ['400 code 2', 400, body(2), null, 'transient', null],
    ['500 code 131016', 500, body(131016), null, 'transient', null],
  ];

  it.each(cases)('%s', (_name, status, errorBody, retryAfter, kind, retryAfterMs) => {
    const error = classifyGraphError(status, errorBody, retryAfter);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ kind, httpStatus: status, retryAfterMs });
  });

  it('reads code and subcode, and prefers the details over the message', () => {
    const error = classifyGraphError(400, body(131047, { error_subcode: 2494010, error_data: { messaging_product: 'whatsapp', details: 'More than 24 hours have passed.' } }), null);
    expect(error).toMatchObject({ code: 131047, subcode: 2494010, message: '131047 Re-engagement message: More than 24 hours have passed.' });
  });

  it('a code without a known title keeps the message, without its (#code) prefix', () => {
    expect(classifyGraphError(400, body(131009), null).message).toBe('131009 message 131009');
  });

  it('bounds the message and hides URL queries', () => {
    const long = classifyGraphError(400, { error: { code: 100, message: `see https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&hash=SECRET ${'y'.repeat(1000)}` } }, null);
    expect(long.message.length).toBeLessThanOrEqual(300);
    expect(long.message).not.toContain('SECRET');
    expect(long.message).toContain('https://lookaside.fbsbx.com/whatsapp_business/attachments/');
  });
});

describe('signWebhook', () => {
  it('signs the raw body with HMAC-SHA256 of the app secret', () => {
    // echo -n '{"a":1}' | openssl dgst -sha256 -hmac secret
    const expected = 'sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494';
    expect(signWebhook('{"a":1}', 'secret')).toBe(expected);
    expect(signWebhook(Buffer.from('{"a":1}'), 'secret')).toBe(expected);
  });
});

describe('the token', () => {
  it('appears in no error message, name or stack', () => {
    expect(seen.length).toBeGreaterThan(10);
    for (const error of seen) {
      const text = error instanceof Error ? `${error.name} ${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}` : String(error);
      expect(text).not.toContain(TOKEN);
    }
  });
});
