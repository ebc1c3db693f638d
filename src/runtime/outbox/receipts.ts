import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookEvent } from '../../domain/webhook-events.ts';
import type { Logger } from '../../logging/logger.ts';
import type { CloudStatus } from '../../ports/cloud-api.port.ts';
import type { HistoryStore } from '../../ports/history-store.port.ts';

export interface ReceiptsDeps {
  readonly history: Pick<HistoryStore, 'recordReceipt' | 'findByProviderMessageId'>;
  readonly webhooks: { publish(event: WebhookEvent): Promise<number> };
  readonly clock: () => number;
  readonly logger: Logger;
  /** Waits before looking again for the row of a receipt that came before its send was recorded. */
  readonly lateRowDelaysMs?: readonly number[];
}

const LATE_ROW_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];

/** Meta's words for a failure: code and title, then its details. */
export const receiptError = (error: NonNullable<CloudStatus['error']>): string =>
  `${error.code} ${error.title}${error.details === null || error.details === error.title ? '' : `: ${error.details}`}`;

/**
 * Provider receipts on sent messages: each is recorded on the outbound history row the message
 * was sent as (found by the provider's id), never moving a row back; a `failed` one marks the row
 * failed and is announced as `message.failed`. A receipt can overtake the record of its own send
 * (Meta answers the send and posts `sent` within the same moment), so one whose row is not there
 * yet is looked for again a few times before it is dropped (logged).
 */
export function createReceipts(deps: ReceiptsDeps) {
  const log = deps.logger.child({ scope: 'receipts' });
  const delays = deps.lateRowDelaysMs ?? LATE_ROW_DELAYS_MS;

  async function apply(botId: string, status: CloudStatus): Promise<boolean> {
    const error = status.error === null ? null : receiptError(status.error);
    const changed = await deps.history.recordReceipt(botId, status.recipientId, status.wamid, {
      status: status.status, at: new Date(status.at ?? deps.clock()), ...(error === null ? {} : { error }),
    });
    if (changed && status.status === 'failed') {
      await deps.webhooks.publish({
        id: `message.failed:receipt:${botId}:${status.wamid}`, type: 'message.failed', at: deps.clock(),
        data: { botId, correspondentId: status.recipientId, providerMessageId: status.wamid, error },
      });
    }
    return changed;
  }

  return {
    /** Resolves once the receipt is recorded or found to change nothing right now. */
    async record(botId: string, status: CloudStatus): Promise<void> {
      if (await apply(botId, status)) return;
      // A row that is there already said as much or more (Meta repeats statuses): nothing to wait for.
      if ((await deps.history.findByProviderMessageId(botId, status.recipientId, status.wamid)) !== null) return;
      void (async () => {
        for (const delay of delays) {
          await sleep(delay, undefined, { ref: false });
          if (await apply(botId, status).catch(() => false)) return;
        }
        log.debug({ botId, status: status.status }, 'receipt matched no sent message; dropped');
      })();
    },
  };
}
