import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';

/**
 * A local OpenAI-compatible server for the media processors' tests: the two endpoints they call,
 * recording what each request carried, answering deterministically from the bytes it received,
 * and failing on request the ways the real service fails (5xx, 429, never answering).
 */
export type FakeRoute = 'transcriptions' | 'chat';
/**
 * 500 and 429 are retried by the SDK; 400 is the service refusing the file, 401 refusing the key.
 * `timeout`: never answers. `hang`: sends the status line and half a body, then stalls.
 */
export type FakeFailure = 500 | 429 | 400 | 401 | 'timeout' | 'hang';
/** How the server answered; 400 also when the request itself was malformed. */
export type FakeAnswer = 'ok' | FakeFailure;

interface CallBase {
  readonly authorization: string | null;
  readonly model: string | null;
  answer: FakeAnswer;
}

export interface TranscriptionCall extends CallBase {
  readonly route: 'transcriptions';
  readonly fileName: string | null;
  readonly mimetype: string | null;
  /** The `language` form field, when the client sent one. */
  readonly language: string | null;
  readonly bytes: number;
  /** Hex sha256 of the uploaded file; null without a file field. */
  readonly sha256: string | null;
}

/** An image part's data URL, decoded; width and height are null when sharp cannot read it. */
export interface ChatImage {
  readonly mime: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly width: number | null;
  readonly height: number | null;
}

/** One message of a chat call whose content is a plain string (as AI replies send them). */
export interface ChatTurnCall {
  readonly role: string;
  readonly content: string;
}

export interface ChatCall extends CallBase {
  readonly route: 'chat';
  /** Messages whose content is a plain string, in order: the conversation an AI reply sends. */
  readonly turns: readonly ChatTurnCall[];
  readonly texts: readonly string[];
  readonly images: readonly ChatImage[];
}

export type FakeCall = TranscriptionCall | ChatCall;

/** Builds the reply text for a successful call; the call is that route's own kind. */
export type FakeReply = (call: FakeCall) => string;

export interface FakeOpenAi {
  /** Base URL ending in `/v1`, as the SDK's `baseURL` takes it. */
  readonly url: string;
  readonly calls: FakeCall[];
  failNext(route: FakeRoute, failure: FakeFailure, times?: number): void;
  reply(route: FakeRoute, fn: FakeReply): void;
  /** Forgets calls, pending failures and custom replies, for the next test. */
  reset(): void;
  close(): Promise<void>;
}

/** Milliseconds a 429 asks the client to wait, via the `retry-after-ms` header the SDK honours. */
export const RATE_LIMIT_RETRY_MS = 50;

const ROUTES: Readonly<Record<string, FakeRoute>> = { 'POST /v1/audio/transcriptions': 'transcriptions', 'POST /v1/chat/completions': 'chat' };

export interface FakeOpenAiOptions {
  /** Milliseconds every request waits before it is answered, as a real model takes its time; 0 by default. */
  readonly delayMs?: number | (() => number);
  /** Port on 127.0.0.1; any free one by default. */
  readonly port?: number;
}

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const calls: FakeCall[] = [];
  const failures: Record<FakeRoute, FakeFailure[]> = { transcriptions: [], chat: [] };
  const replies: Record<FakeRoute, FakeReply> = { transcriptions: defaultReply, chat: defaultReply };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await buffer(request);
    const authorization = request.headers.authorization ?? null;
    const path = (request.url ?? '').split('?')[0];
    const route = ROUTES[`${request.method} ${path}`];
    if (route === undefined) return sendJson(response, 404, errorBody(`no route ${request.method} ${path}`, 'invalid_request_error'));
    const call = route === 'chat' ? await chatCall(body, authorization) : await transcriptionCall(body, request.headers['content-type'] ?? '', authorization);
    calls.push(call);
    const malformed = call.model === null || (call.route === 'transcriptions' && call.sha256 === null);
    call.answer = malformed ? 400 : (failures[call.route].shift() ?? 'ok');
    const delayMs = typeof options.delayMs === 'function' ? options.delayMs() : (options.delayMs ?? 0);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (call.answer !== 'ok') return fail(response, call.answer);
    const text = replies[call.route](call);
    if (call.route === 'transcriptions') return sendJson(response, 200, { text });
    sendJson(response, 200, {
      id: `chatcmpl-fake-${calls.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: call.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 100, completion_tokens: text.length, total_tokens: 100 + text.length },
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, errorBody(`fake server error: ${String(error)}`, 'server_error'));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake OpenAI server is not listening on TCP');

  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    calls,
    failNext: (route, failure, times = 1) => failures[route].push(...Array.from({ length: times }, () => failure)),
    reply: (route, fn) => (replies[route] = fn),
    reset: () => {
      calls.length = failures.chat.length = failures.transcriptions.length = 0;
      replies.chat = replies.transcriptions = defaultReply;
    },
    close: async () => {
      // Requests held open by `timeout` and `hang` would keep close() waiting for ever.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** `transcript of <first 8 hex of the file's sha256>` / `description of <… of the image's>`. */
function defaultReply(call: FakeCall): string {
  if (call.route === 'transcriptions') return `transcript of ${call.sha256?.slice(0, 8) ?? 'no file'}`;
  return `description of ${call.images[0]?.sha256.slice(0, 8) ?? 'no image'}`;
}

async function transcriptionCall(body: Buffer, contentType: string, authorization: string | null): Promise<TranscriptionCall> {
  // The platform's multipart parser (the same one fetch uses), so boundaries and quoting are read as a real server would.
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData().catch(() => null);
  const model = form?.get('model');
  const language = form?.get('language');
  const file = form?.get('file');
  const isFile = file instanceof File;
  const bytes = isFile ? new Uint8Array(await file.arrayBuffer()) : null;
  return {
    route: 'transcriptions',
    authorization,
    model: typeof model === 'string' ? model : null,
    fileName: isFile ? file.name : null,
    mimetype: isFile ? file.type : null,
    language: typeof language === 'string' ? language : null,
    bytes: bytes?.byteLength ?? 0,
    sha256: bytes === null ? null : sha256(bytes),
    answer: 'ok',
  };
}

/** Collects the text and image parts of every message; tolerant, so a malformed body is recorded, not thrown on. */
async function chatCall(body: Buffer, authorization: string | null): Promise<ChatCall> {
  const record = asRecord(await Promise.resolve(body.toString('utf8')).then(JSON.parse).catch(() => null));
  const messages: unknown[] = Array.isArray(record['messages']) ? record['messages'] : [];
  const parts = messages.flatMap((message) => asRecord(message)['content'] ?? []).map(asRecord);
  const texts = parts.flatMap((part) => (part['type'] === 'text' && typeof part['text'] === 'string' ? [part['text']] : []));
  const urls = parts.flatMap((part) => asRecord(part['image_url'])['url'] ?? []).filter((url) => typeof url === 'string');
  const model = record['model'];
  const turns = messages.map(asRecord).flatMap((m) => (typeof m['content'] === 'string' && typeof m['role'] === 'string' ? [{ role: m['role'], content: m['content'] }] : []));
  return { route: 'chat', authorization, model: typeof model === 'string' ? model : null, turns, texts, images: await Promise.all(urls.map(decodeImage)), answer: 'ok' };
}

async function decodeImage(url: string): Promise<ChatImage> {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  const bytes = match ? Buffer.from(match[2] ?? '', 'base64') : Buffer.alloc(0);
  const meta = await sharp(bytes).metadata().catch(() => null);
  return { mime: match?.[1] ?? 'not a data URL', bytes: bytes.byteLength, sha256: sha256(bytes), width: meta?.width ?? null, height: meta?.height ?? null };
}

const FAILURES: Readonly<Record<400 | 401 | 429 | 500, readonly [message: string, type: string, code: string | null]>> = {
  400: ['Invalid file format.', 'invalid_request_error', null],
  // The real service quotes part of a key it rejects; the processors must never pass that on.
  401: ['Incorrect API key provided: test-key.', 'invalid_request_error', 'invalid_api_key'],
  429: ['Rate limit reached', 'requests', 'rate_limit_exceeded'],
  500: ['The server had an error while processing your request.', 'server_error', null],
};

function fail(response: ServerResponse, failure: FakeFailure): void {
  if (failure === 'timeout') return; // no answer at all until the client gives up or the server closes
  if (failure === 'hang') return void response.writeHead(200, { 'content-type': 'application/json' }).write('{"text": "partial');
  if (failure === 429) response.setHeader('retry-after-ms', String(RATE_LIMIT_RETRY_MS));
  sendJson(response, failure, errorBody(...FAILURES[failure]));
}

function errorBody(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
