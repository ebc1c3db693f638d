import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { isParleyError } from '../../domain/errors.ts';
import type { WebhookRequest, WebhookSendResult, WebhookSender } from '../../ports/webhook-sender.port.ts';
import { checkedLookup, refusedAddressKind, systemResolve } from './address-policy.ts';
import type { Resolve } from './address-policy.ts';
import { retryAfterMs } from './retry-after.ts';

export interface HttpWebhookSenderOptions {
  /** Longest an attempt may take, connection to the answer's last byte. */
  readonly timeoutMs: number;
  /** WEBHOOK_DENY_PRIVATE: refuse receivers on loopback, private and similar addresses. */
  readonly denyPrivate: boolean;
  readonly resolve?: Resolve;
  /** Bytes of an answer read (and thrown away) before the connection is closed. */
  readonly maxResponseBytes?: number;
  readonly clock?: () => number;
}

const USER_AGENT = 'Parley-Webhooks/1';
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Delivers over node:http(s), one connection per attempt. A 2xx is delivered; a network error, a
 * timeout, a 5xx or a 429 is worth a retry (at the answer's `Retry-After` when it gives one);
 * another 4xx and every redirect, which is not followed, fail for good. Under `denyPrivate` the
 * connection goes only to an address that passed the check (`checkedLookup`), and a refused one
 * fails for good. The answer's body is read up to a cap and thrown away.
 */
export function createHttpWebhookSender(options: HttpWebhookSenderOptions): WebhookSender {
  const resolve = options.resolve ?? systemResolve;
  const lookup = checkedLookup(resolve, options.denyPrivate);
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const clock = options.clock ?? Date.now;

  function classify(response: IncomingMessage): WebhookSendResult {
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return { outcome: 'delivered', status };
    if (status >= 300 && status < 400) return { outcome: 'fail', status, error: `redirect not followed (HTTP ${status})` };
    if (status === 429 || status >= 500) {
      return { outcome: 'retry', status, error: `HTTP ${status}`, retryAfterMs: retryAfterMs(response.headers['retry-after'], clock()) };
    }
    return { outcome: 'fail', status, error: `HTTP ${status}` };
  }

  return {
    send(request: WebhookRequest): Promise<WebhookSendResult> {
      const url = new URL(request.url);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      // An address in the URL is connected to without a lookup: it is checked here instead.
      const literalKind = options.denyPrivate && isIP(host) !== 0 ? refusedAddressKind(host) : null;
      if (literalKind !== null) {
        return Promise.resolve({ outcome: 'fail', status: null, error: `address refused: ${host} is a ${literalKind} address (WEBHOOK_DENY_PRIVATE=1)` });
      }
      const body = Buffer.from(request.body, 'utf8');
      return new Promise<WebhookSendResult>((settle) => {
        let settled = false;
        const finish = (result: WebhookSendResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          settle(result);
        };
        const transport = url.protocol === 'https:' ? https : http;
        const req = transport.request(url, {
          method: 'POST',
          // A fresh connection per attempt: nothing pooled outlives it, and every attempt is checked.
          agent: false,
          lookup,
          signal: request.signal,
          headers: { ...request.headers, 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': USER_AGENT },
        });
        const timer = setTimeout(() => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
        req.on('response', (response) => {
          const result = classify(response);
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            // The answer is not used: past the cap the connection is closed, the outcome stands.
            if (read > maxBytes) {
              finish(result);
              response.destroy();
            }
          });
          response.on('end', () => finish(result));
          response.on('error', () => finish(result));
          response.on('close', () => finish(result));
        });
        req.on('error', (err: Error) => {
          if (isParleyError(err, 'WEBHOOK_URL_REFUSED')) finish({ outcome: 'fail', status: null, error: `address refused: ${err.message.replace(/^url: /, '')}` });
          else finish({ outcome: 'retry', status: null, error: err.message, retryAfterMs: null });
        });
        req.end(body);
      });
    },
  };
}
