import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { finished } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';

/** Names the instance that executed a call; on every answer. */
export const INSTANCE_HEADER = 'parley-instance';
/** Marks a call one instance forwarded to another, with the forwarding instance's id. */
export const FORWARDED_BY_HEADER = 'parley-forwarded-by';

/**
 * The request headers an owner needs to answer the call as if it had been made to it: the key
 * (checked again there), the body's type and length, Meta's signature over the raw body, and the
 * client's idempotency key. Nothing else is passed on: no cookie, no proxy header a client made up.
 */
export const FORWARDED_REQUEST_HEADERS = ['authorization', 'content-type', 'content-length', 'accept', 'user-agent', 'x-hub-signature-256', 'idempotency-key'] as const;

/** Headers of one connection only (RFC 9110 §7.6.1), never relayed in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface OwnerProxyOptions {
  /** This instance's id, sent as `parley-forwarded-by`. */
  readonly instanceId: string;
  /** Silence (no connection, no byte either way) after which the owner counts as not answering. */
  readonly timeoutMs: number;
}

/** Where a call goes: the owner's announced base URL and the owner's id. */
export interface RelayTarget {
  readonly baseUrl: string;
  readonly instanceId: string;
}

export interface OwnerProxy {
  /**
   * Sends the call to the owner: same method, path and query, the listed headers and the body's
   * bytes unchanged (streamed, so a signature over them still verifies). Resolves `relayed` once
   * the owner's answer (status, headers, body) went out to the client, or `unreachable` when the
   * owner could not be reached or stayed silent before answering; then nothing was sent.
   */
  relay(target: RelayTarget, request: FastifyRequest, reply: FastifyReply, body: RequestPayload): Promise<'relayed' | 'unreachable'>;
  /** Closes the connections to other instances still open. */
  close(): void;
}

export function createOwnerProxy(options: OwnerProxyOptions): OwnerProxy {
  // A connection per call: a kept-alive one the owner closes just as it is reused would fail a
  // call the owner never saw, and a fresh connection inside a cluster costs little.
  const agents = { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent({ keepAlive: false }) };

  return {
    async relay(target, request, reply, body) {
      const url = targetUrl(target.baseUrl, request.url);
      if (url === null) {
        request.log.warn({ owner: target.instanceId }, 'the owner announced a URL that is not plain http(s); not forwarding to it');
        return 'unreachable';
      }
      const secure = url.protocol === 'https:';
      const outgoing = (secure ? httpsRequest : httpRequest)({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: url.path,
        method: request.method,
        headers: { ...forwardedHeaders(request), [FORWARDED_BY_HEADER]: options.instanceId },
        agent: secure ? agents.https : agents.http,
        timeout: options.timeoutMs,
      });
      const response = await send(outgoing, body, request);
      if (response === null) return 'unreachable';
      relayAnswer(target, request, reply, response);
      // The hook that called this must not resolve before the answer is out, or Fastify would go
      // on to parse the (already forwarded) body and run the route here as well.
      await finished(reply.raw).catch(() => response.destroy());
      return 'relayed';
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** The owner's answer, or null when it could not be had; the body streams to the owner meanwhile. */
function send(outgoing: ClientRequest, body: RequestPayload, request: FastifyRequest): Promise<IncomingMessage | null> {
  return new Promise((resolve) => {
    let answered = false;
    outgoing.on('timeout', () => outgoing.destroy(new Error('the owner stayed silent')));
    // An error after the answer arrived (the owner closing while the client still sends) only
    // ends the exchange: the answer is already on its way to the client.
    outgoing.on('error', (err) => {
      if (!answered) request.log.warn({ err: { message: err.message } }, 'the bot\'s owner did not answer a forwarded call');
      resolve(null);
    });
    outgoing.once('response', (response) => {
      answered = true;
      resolve(response);
    });
    body.once('error', (err: Error) => outgoing.destroy(err));
    body.pipe(outgoing);
  });
}

function relayAnswer(target: RelayTarget, request: FastifyRequest, reply: FastifyReply, response: IncomingMessage): void {
  const connectionTokens = listed(response.headers.connection);
  // An owner that names no instance is still the one that executed the call.
  void reply.header(INSTANCE_HEADER, target.instanceId);
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    void reply.header(name, value);
  }
  void reply.status(response.statusCode ?? 502);
  const status = reply.statusCode;
  if (request.method === 'HEAD' || status === 204 || status === 304) {
    response.resume();
    void reply.send();
    return;
  }
  void reply.send(response);
}

function forwardedHeaders(request: FastifyRequest): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  // A body without a length goes on chunked (Node's default when none is set); no body at all
  // must say so, or a POST would arrive as a chunked body of no declared type.
  if (headers['content-length'] === undefined && request.headers['transfer-encoding'] === undefined) headers['content-length'] = '0';
  return headers;
}

/** `base` (an instance's announced URL) with `path` appended; null unless plain http(s) without credentials. */
export function targetUrl(base: string, path: string): { protocol: string; hostname: string; port: string; path: string } | null {
  if (!URL.canParse(base) || !path.startsWith('/')) return null;
  const url = new URL(base);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') return null;
  return { protocol: url.protocol, hostname: url.hostname, port: url.port, path: `${url.pathname.replace(/\/+$/, '')}${path}` };
}

function listed(header: string | undefined): ReadonlySet<string> {
  return new Set((header ?? '').split(',').map((token) => token.trim().toLowerCase()).filter((token) => token !== ''));
}
