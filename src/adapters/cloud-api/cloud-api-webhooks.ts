import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CloudApiAccount } from '../../domain/cloud-api-account.ts';
import type { CloudApiWebhooks, OpenedNotification } from '../../ports/cloud-api.port.ts';
import type { HistoryStore } from '../../ports/history-store.port.ts';
import type { MediaBytes } from '../../ports/media-store.port.ts';
import { CloudPayloadError, parseNotification } from './cloud-api-inbound.ts';
import type { GraphClient } from './graph-client.ts';

export interface CloudApiWebhooksOptions {
  /** Quoted replies are shown with the text of the message they quote, found in history. */
  readonly history: Pick<HistoryStore, 'findByProviderMessageId'>;
  /** The Graph client of an account (media lookups and downloads). */
  readonly graph: (account: CloudApiAccount) => GraphClient;
  /** Largest media file taken; larger ones are refused from their declared size before download. */
  readonly maxMediaBytes: number;
}

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Whether `header` is `sha256=<hex HMAC-SHA256 of the raw bytes with the app secret>`. The hex is
 * decoded and its length checked before a constant-time compare of the 32-byte digests.
 */
export function signatureMatches(rawBody: Uint8Array, header: string | undefined, appSecret: string): boolean {
  const hex = header === undefined ? undefined : SIGNATURE.exec(header.trim())?.[1];
  if (hex === undefined) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Equal strings in time independent of where they differ (and of their lengths, through a digest). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

/** Meta's webhooks of Cloud API bots: signature first, then JSON, then the notification. */
export function createCloudApiWebhooks(options: CloudApiWebhooksOptions): CloudApiWebhooks {
  return {
    verifyTokenMatches: (account, token) => sameSecret(token, account.verifyToken),

    async open(botId, account, rawBody, signatureHeader): Promise<OpenedNotification> {
      if (!signatureMatches(rawBody, signatureHeader, account.appSecret)) return { outcome: 'bad-signature' };
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(rawBody).toString('utf8'));
      } catch {
        return { outcome: 'malformed', problem: 'the body is not valid JSON' };
      }
      const graph = options.graph(account);
      try {
        const notification = await parseNotification(payload, {
          phoneNumberId: account.phoneNumberId,
          media: (mediaId) => (): Promise<MediaBytes> => graph.downloadMedia(mediaId, { maxBytes: options.maxMediaBytes }),
          quotedText: async (correspondentId, wamid) => (await options.history.findByProviderMessageId(botId, correspondentId, wamid))?.content ?? null,
        });
        return { outcome: 'verified', notification };
      } catch (err) {
        if (err instanceof CloudPayloadError) return { outcome: 'malformed', problem: err.message };
        throw err;
      }
    },
  };
}
