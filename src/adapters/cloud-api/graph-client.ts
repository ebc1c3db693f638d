import { createHash } from 'node:crypto';
import { MediaTooLargeError } from '../../ports/media-store.port.ts';
import { GraphError, classifyGraphError, safeMessage } from './graph-errors.ts';

export { GraphError, classifyGraphError } from './graph-errors.ts';
export type { GraphErrorDetails, GraphErrorKind } from './graph-errors.ts';

/** Where and as whom a bot talks to the WhatsApp Cloud API. */
export interface GraphSettings {
  readonly phoneNumberId: string;
  readonly accessToken: string;
  /** `https://graph.facebook.com` in production; a local fake in tests. */
  readonly graphBaseUrl: string;
  /** `v23.0` and the like. */
  readonly apiVersion: string;
}

export interface GraphClient {
  /** POSTs one text; resolves with the wamid. Throws GraphError. */
  sendText(to: string, text: string, signal?: AbortSignal): Promise<{ wamid: string }>;
  /** GET /{phoneNumberId}: checks the credentials (used when the bot starts). Throws GraphError. */
  phoneNumber(signal?: AbortSignal): Promise<{ displayPhoneNumber: string | null; verifiedName: string | null }>;
  /**
   * Looks the media id up and downloads it with the bearer token. A `file_size` over `maxBytes`
   * rejects with `MediaTooLargeError` before any download; so does a stream that grows past it.
   * Lookup and download failures reject with `GraphError`; the bytes are streamed, never buffered
   * whole, and the stream errors at its end (GraphError, transient) when their SHA-256 or size is
   * not the one Graph announced.
   */
  downloadMedia(mediaId: string, options: { readonly maxBytes: number; readonly signal?: AbortSignal }): Promise<AsyncIterable<Uint8Array>>;
}

export interface GraphClientOptions {
  /**
   * Per call: the whole request for JSON calls; for a media download, the wait for its headers and
   * then for each next chunk (a large file may take longer in total). 30 s by default.
   */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Most bytes read of a JSON answer or an error body. */
const JSON_CAP = 1024 ** 2;

/**
 * A small client for the Graph API calls the Cloud API provider makes. It logs nothing; every
 * failure is a `GraphError` whose message never holds the token or a signed media URL. A caller's
 * abort rejects with the signal's reason as is.
 */
export function createGraphClient(settings: GraphSettings, options: GraphClientOptions = {}): GraphClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = settings.graphBaseUrl.replace(/\/$/, '');
  const graphOrigin = new URL(base).origin;
  const token = settings.accessToken;
  const authorization = `Bearer ${token}`;
  const url = (id: string, suffix = '') => `${base}/${settings.apiVersion}/${encodeURIComponent(id)}${suffix}`;

  /** Takes the token out of text Graph sent back (it echoes a malformed token in its message). */
  const redact = (text: string): string => (token.length === 0 ? text : text.replaceAll(token, '[redacted]'));
  const scrubbed = (error: GraphError): GraphError => {
    const message = safeMessage(redact(error.message));
    return message === error.message ? error : new GraphError(message, error);
  };

  /** What a failed fetch or body read turns into: the caller's abort reason, or a transient GraphError. */
  function failure(error: unknown, caller: AbortSignal | undefined, deadline: AbortSignal): unknown {
    if (error instanceof GraphError) return scrubbed(error);
    if (error instanceof MediaTooLargeError) return error;
    if (caller?.aborted) return caller.reason;
    if (deadline.aborted) return new GraphError(`timeout after ${timeoutMs} ms`, { kind: 'transient' });
    return new GraphError(`network error${networkCode(error)}`, { kind: 'transient' });
  }

  async function errorOf(response: Response): Promise<GraphError> {
    const text = await readCapped(response, JSON_CAP).catch(() => '');
    return scrubbed(classifyGraphError(response.status, parseJson(redact(text)), response.headers.get('retry-after')));
  }

  async function callJson(method: 'GET' | 'POST', target: string, body: unknown, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetchImpl(target, {
        method,
        headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
      });
      if (!response.ok) throw await errorOf(response);
      const parsed = parseJson(await readCapped(response, JSON_CAP));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new GraphError(`HTTP ${response.status} answer is not a JSON object`, { kind: 'permanent', httpStatus: response.status });
      }
      return parsed as Record<string, unknown>;
    } catch (error) {
      throw failure(error, signal, deadline);
    }
  }

  return {
    async sendText(to, text, signal) {
      const body = { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body: text, preview_url: false } };
      const answer = await callJson('POST', url(settings.phoneNumberId, '/messages'), body, signal);
      const messages = answer['messages'];
      const wamid = Array.isArray(messages) ? field(messages[0], 'id') : null;
      // Graph took the request; sending again could deliver the text twice, so this is not retried.
      if (wamid === null) throw new GraphError('send answered without a message id', { kind: 'permanent', httpStatus: 200 });
      return { wamid };
    },

    async phoneNumber(signal) {
      const answer = await callJson('GET', url(settings.phoneNumberId, '?fields=display_phone_number,verified_name'), undefined, signal);
      return { displayPhoneNumber: field(answer, 'display_phone_number'), verifiedName: field(answer, 'verified_name') };
    },

    async downloadMedia(mediaId, { maxBytes, signal }) {
      const info = await callJson('GET', url(mediaId), undefined, signal);
      const mediaUrl = field(info, 'url');
      const announcedSha = field(info, 'sha256');
      const fileSize = typeof info['file_size'] === 'number' && Number.isSafeInteger(info['file_size']) ? info['file_size'] : null;
      if (mediaUrl === null) throw new GraphError('media lookup answered without a URL', { kind: 'permanent', httpStatus: 200 });
      if (fileSize !== null && fileSize > maxBytes) throw new MediaTooLargeError(maxBytes);
      // The bearer token goes only over TLS, or to Graph's own origin (a local fake in tests).
      let target: URL;
      try {
        target = new URL(mediaUrl);
      } catch {
        throw new GraphError('media lookup answered with an invalid URL', { kind: 'permanent', httpStatus: 200 });
      }
      if (target.protocol !== 'https:' && target.origin !== graphOrigin) {
        throw new GraphError('media lookup answered with a URL that is not https', { kind: 'permanent', httpStatus: 200 });
      }

      // A deadline re-armed by every chunk: a slow large file is fine, a stalled one is not.
      const idle = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), timeoutMs);
      };
      const disarm = () => clearTimeout(timer);
      const combined = signal === undefined ? idle.signal : AbortSignal.any([signal, idle.signal]);

      arm();
      let body: ReadableStream<Uint8Array>;
      try {
        const response = await fetchImpl(target, { headers: { authorization }, signal: combined });
        if (!response.ok) throw await errorOf(response);
        const length = Number(response.headers.get('content-length') ?? Number.NaN);
        if (Number.isSafeInteger(length) && length > maxBytes) {
          await response.body?.cancel().catch(() => undefined);
          throw new MediaTooLargeError(maxBytes);
        }
        body = response.body ?? new ReadableStream({ start: (controller) => controller.close() });
      } catch (error) {
        disarm();
        throw failure(error, signal, idle.signal);
      }

      return (async function* stream(): AsyncGenerator<Uint8Array> {
        const hash = createHash('sha256');
        let size = 0;
        try {
          for await (const chunk of body) {
            arm();
            size += chunk.byteLength;
            if (size > maxBytes) throw new MediaTooLargeError(maxBytes);
            hash.update(chunk);
            yield chunk;
          }
        } catch (error) {
          throw failure(error, signal, idle.signal);
        } finally {
          disarm();
        }
        if (fileSize !== null && size !== fileSize) {
          throw new GraphError(`media size mismatch: got ${size} bytes, Graph announced ${fileSize}`, { kind: 'transient' });
        }
        if (announcedSha !== null && !shaMatches(hash.digest(), announcedSha)) {
          throw new GraphError('media sha256 mismatch', { kind: 'transient' });
        }
      })();
    },
  };
}

/** Graph's `sha256` is hex; the webhook's is base64. Either is accepted. */
function shaMatches(digest: Buffer, announced: string): boolean {
  const value = announced.trim();
  if (/^[0-9a-f]{64}$/i.test(value)) return digest.toString('hex') === value.toLowerCase();
  return digest.toString('base64') === value || digest.toString('base64url') === value.replace(/=+$/, '');
}

function field(value: unknown, name: string): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const found = (value as Record<string, unknown>)[name];
  return typeof found === 'string' && found !== '' ? found : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The body as text, at most `cap` bytes of it (a longer one is cut off and cancelled). */
async function readCapped(response: Response, cap: number): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= cap) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** ` (ECONNREFUSED)` from undici's `fetch failed` and its cause; never the cause's message (it may name a URL). */
function networkCode(error: unknown): string {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return ` (${code})`;
  }
  return '';
}
