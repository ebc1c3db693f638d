import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookRequest, WebhookSendResult, WebhookSender } from '../../src/ports/webhook-sender.port.ts';

/** One request a receiver got, and whether its signature verified with the subscription's secret. */
export interface Received {
  readonly id: string;
  readonly timestamp: string;
  readonly body: string;
  /** When it arrived (epoch ms). */
  readonly at: number;
  readonly payload: { type: string; timestamp: string; data: Record<string, unknown> };
  /** `null` when it verified; the verifier's complaint otherwise. */
  readonly verification: string | null;
}

/** What the receiver answers: a status and headers, or `'hang'` to never answer. */
export type Answer = { readonly status: number; readonly headers?: Readonly<Record<string, string>> } | 'hang';

function verify(secret: string | undefined, body: string, headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
  if (secret === undefined) return 'no secret to verify with';
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': String(headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(headers['webhook-signature'] ?? ''),
    });
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function record(secret: string | undefined, body: string, headers: IncomingHttpHeaders | Readonly<Record<string, string>>): Received {
  return {
    id: String(headers['webhook-id']),
    timestamp: String(headers['webhook-timestamp']),
    body,
    at: Date.now(),
    payload: JSON.parse(body) as Received['payload'],
    verification: verify(secret, body, headers),
  };
}

/**
 * A webhook receiver on 127.0.0.1 that verifies every request with the `standardwebhooks`
 * package and answers from a script (`answers`, one per request, then 204).
 */
export async function startReceiver(port = 0) {
  const received: Received[] = [];
  const answers: Answer[] = [];
  const hanging = new Set<() => void>();
  let secret: string | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(record(secret, Buffer.concat(chunks).toString('utf8'), req.headers));
      const answer = answers.shift() ?? { status: 204 };
      if (answer === 'hang') {
        hanging.add(() => res.destroy());
        return;
      }
      res.writeHead(answer.status, answer.headers).end(answer.status === 204 ? undefined : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const listening = (server.address() as AddressInfo).port;
  return {
    port: listening,
    url: (path = '/hook') => `http://127.0.0.1:${listening}${path}`,
    received,
    /** The secret every request must verify with (the one the subscription got). */
    verifyWith(value: string) {
      secret = value;
    },
    answer(...next: Answer[]) {
      answers.push(...next);
    },
    async close() {
      hanging.forEach((end) => end());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * A sender that never opens a socket: it verifies each request like a receiver would and answers
 * from a script (`results`, one per request, then delivered), for runtime tests.
 */
export function scriptedSender() {
  const received: Received[] = [];
  const results: WebhookSendResult[] = [];
  const secrets = new Map<string, string>();
  const sender: WebhookSender = {
    async send(request: WebhookRequest) {
      received.push(record(secrets.get(request.url), request.body, request.headers));
      return results.shift() ?? { outcome: 'delivered', status: 200 };
    },
  };
  return {
    sender,
    received,
    /** Requests to `url` must verify with `secret`. */
    verifyWith(url: string, secret: string) {
      secrets.set(url, secret);
    },
    answer(...next: WebhookSendResult[]) {
      results.push(...next);
    },
  };
}
