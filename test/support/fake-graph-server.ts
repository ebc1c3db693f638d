import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { buffer } from 'node:stream/consumers';

/**
 * A local stand-in for Meta's Graph API (WhatsApp Cloud API): the phone-number node, the messages
 * endpoint, media lookup and the media download, with Meta's bearer check and error bodies.
 * Records every request; failures are scripted per call.
 */

export interface GraphCall {
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  /** The query string without `?`; '' when none. */
  readonly query: string;
  readonly authorization: string | null;
  /** The body parsed as JSON; null when empty or not JSON. */
  readonly body: unknown;
}

/** Meta's error object; `details` becomes `error_data.details`. */
export interface GraphErrorAnswer {
  readonly code: number;
  readonly message?: string;
  readonly type?: string;
  readonly error_subcode?: number;
  readonly details?: string;
}

/**
 * A scripted answer to one send: `ok` (accepted), an HTTP status with Meta's error body
 * (`retryAfter` sets a `Retry-After` header), `hang` (never answers) or `drop` (closes the
 * connection without an answer).
 */
export type SendAnswer = 'ok' | 'hang' | 'drop' | { readonly status: number; readonly error?: GraphErrorAnswer; readonly retryAfter?: string };

export interface FakeGraph {
  /** e.g. `http://127.0.0.1:PORT`, as `graphBaseUrl` takes it. */
  readonly baseUrl: string;
  readonly calls: readonly GraphCall[];
  /**
   * Media the server knows: lookup at /{version}/{mediaId}, bytes at /media/{mediaId} (bearer
   * required). `sha256` (hex) and `fileSize` override what the lookup announces.
   */
  addMedia(mediaId: string, bytes: Uint8Array, mimeType: string, options?: { sha256?: string; fileSize?: number }): void;
  /** Scripted answers for the next POSTs to /{version}/{phoneNumberId}/messages; when none is left: ok with a fresh wamid. */
  scriptSends(...answers: SendAnswer[]): void;
  /** The next downloads of this id fail with these statuses, one each (e.g. 500 once, or 404). */
  failDownload(mediaId: string, ...statuses: number[]): void;
  /** Outbound texts accepted, in order. */
  readonly sent: readonly { to: string; text: string; wamid: string }[];
  close(): Promise<void>;
}

export interface FakeGraphOptions {
  readonly accessToken: string;
  readonly phoneNumberId: string;
}

/** Most characters Meta accepts in a text body. */
export const MAX_TEXT_BODY = 4096;
const CHUNK = 16 * 1024;

interface StoredMedia {
  readonly bytes: Uint8Array;
  readonly mimeType: string;
  readonly sha256: string;
  readonly fileSize: number;
}

export async function startFakeGraph(options: FakeGraphOptions): Promise<FakeGraph> {
  const calls: GraphCall[] = [];
  const sent: { to: string; text: string; wamid: string }[] = [];
  const media = new Map<string, StoredMedia>();
  const downloadFailures = new Map<string, number[]>();
  const sendScript: SendAnswer[] = [];
  const sockets = new Set<Socket>();
  let baseUrl = '';

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await buffer(request);
    const [path = '', query = ''] = (request.url ?? '').split('?', 2);
    const authorization = request.headers.authorization ?? null;
    const body = parseJson(raw.toString('utf8'));
    const method = request.method ?? 'GET';
    calls.push({ method, path, query, authorization, body });

    if (authorization !== `Bearer ${options.accessToken}`) {
      return sendJson(response, 401, graphError({ code: 190, message: 'Invalid OAuth access token.', type: 'OAuthException' }));
    }

    const download = /^\/media\/([^/]+)$/.exec(path);
    if (download && method === 'GET') return serveMedia(decodeURIComponent(download[1]!), response);

    const match = /^\/(v\d+\.\d+)\/([^/]+)(\/messages)?$/.exec(path);
    if (!match) return sendJson(response, 400, graphError({ code: 2500, message: `Unknown path components: ${path}`, type: 'OAuthException' }));
    const id = decodeURIComponent(match[2]!);
    const messages = match[3] !== undefined;

    if (messages && method === 'POST' && id === options.phoneNumberId) return answerSend(request, body, response);
    if (!messages && method === 'GET' && id === options.phoneNumberId) {
      return sendJson(response, 200, { display_phone_number: '+1 555 0100', verified_name: 'Test Shop', id });
    }
    const stored = media.get(id);
    if (!messages && method === 'GET' && stored !== undefined) {
      return sendJson(response, 200, {
        messaging_product: 'whatsapp',
        url: `${baseUrl}/media/${encodeURIComponent(id)}?token=${randomBytes(12).toString('hex')}`,
        mime_type: stored.mimeType,
        sha256: stored.sha256,
        file_size: stored.fileSize,
        id,
      });
    }
    // What Meta answers for an object id it does not know (or may not show this token).
    return sendJson(
      response,
      400,
      graphError({
        code: 100,
        error_subcode: 33,
        type: 'GraphMethodException',
        message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      }),
    );
  };

  function answerSend(request: IncomingMessage, body: unknown, response: ServerResponse): void {
    const invalid = validateSend(request, body);
    if (invalid !== null) return sendJson(response, 400, graphError({ code: 100, message: '(#100) Invalid parameter', type: 'OAuthException', details: invalid }));
    const answer = sendScript.shift() ?? 'ok';
    if (answer === 'hang') return; // held open until the client gives up or the server closes
    if (answer === 'drop') return void response.socket?.destroy();
    if (answer !== 'ok') {
      if (answer.retryAfter !== undefined) response.setHeader('retry-after', answer.retryAfter);
      return sendJson(response, answer.status, answer.error === undefined ? {} : graphError(answer.error));
    }
    const { to, text } = body as { to: string; text: { body: string } };
    const wamid = `wamid.${randomBytes(30).toString('base64')}`;
    sent.push({ to, text: text.body, wamid });
    sendJson(response, 200, { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to.replace(/\D/g, '') }], messages: [{ id: wamid }] });
  }

  function serveMedia(id: string, response: ServerResponse): void {
    const failures = downloadFailures.get(id);
    const status = failures?.shift();
    if (status !== undefined) {
      response.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      return;
    }
    const stored = media.get(id);
    if (stored === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': stored.mimeType, 'content-length': String(stored.bytes.byteLength) });
    // In chunks, a turn of the event loop apart, so the client sees a stream, not one buffer.
    let offset = 0;
    const next = (): void => {
      if (response.destroyed) return;
      if (offset >= stored.bytes.byteLength) return void response.end();
      const chunk = stored.bytes.subarray(offset, offset + CHUNK);
      offset += chunk.byteLength;
      response.write(chunk, () => setImmediate(next));
    };
    next();
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, graphError({ code: 1, message: `fake Graph error: ${String(error)}`, type: 'OAuthException' }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Graph server is not listening on TCP');
  baseUrl = `http://127.0.0.1:${address.port}`;

  return {
    baseUrl,
    calls,
    sent,
    addMedia(mediaId, bytes, mimeType, extra = {}) {
      const sha256 = extra.sha256 ?? createHash('sha256').update(bytes).digest('hex');
      media.set(mediaId, { bytes, mimeType, sha256, fileSize: extra.fileSize ?? bytes.byteLength });
    },
    scriptSends: (...answers) => void sendScript.push(...answers),
    failDownload(mediaId, ...statuses) {
      downloadFailures.set(mediaId, [...(downloadFailures.get(mediaId) ?? []), ...statuses]);
    },
    async close() {
      // Requests held open by `hang` would keep close() waiting for ever.
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** X-Hub-Signature-256 header value for a raw body: `sha256=<hex HMAC-SHA256(body, appSecret)>`. */
export function signWebhook(rawBody: string | Uint8Array, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** Why Meta would refuse this send body, in its `error_data.details` words; null when it is fine. */
function validateSend(request: IncomingMessage, body: unknown): string | null {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return 'Content-Type must be application/json';
  if (typeof body !== 'object' || body === null) return 'The parameter messaging_product is required.';
  const message = body as Record<string, unknown>;
  if (message['messaging_product'] !== 'whatsapp') return 'The parameter messaging_product is required.';
  if (message['recipient_type'] !== undefined && message['recipient_type'] !== 'individual') return 'Param recipient_type must be one of {INDIVIDUAL, GROUP}.';
  if (typeof message['to'] !== 'string' || message['to'] === '') return 'The parameter to is required.';
  if (message['type'] !== 'text') return 'Param type must be text in this fake.';
  const text = message['text'];
  const textBody = typeof text === 'object' && text !== null ? (text as Record<string, unknown>)['body'] : undefined;
  if (typeof textBody !== 'string' || textBody === '') return "The parameter text['body'] is required.";
  if ([...textBody].length > MAX_TEXT_BODY) return `Param text['body'] must be at most ${MAX_TEXT_BODY} characters long.`;
  return null;
}

function graphError(error: GraphErrorAnswer): { error: Record<string, unknown> } {
  const { details, message, type, ...rest } = error;
  return {
    error: {
      message: message ?? `(#${error.code}) error ${error.code}`,
      type: type ?? 'OAuthException',
      ...rest,
      ...(details === undefined ? {} : { error_data: { messaging_product: 'whatsapp', details } }),
      fbtrace_id: 'x',
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }).end(text);
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
