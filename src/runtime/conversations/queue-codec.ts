import type { CorrespondentQueueContext, CorrespondentQueueEffects, NotifyListenersParams } from '../../../machines/correspondent-queue.machine.ts';
import { ParleyError } from '../../domain/errors.ts';
import { decodeWindow, encodeWindow, finalMessageFromHistory, isStoredWindow } from '../../domain/stored-window.ts';
import type { DecodedWindow, StoredWindow } from '../../domain/stored-window.ts';
import type { Logger } from '../../logging/logger.ts';
import type { HistoryStore } from '../../ports/history-store.port.ts';
import type { ActorCodec, SnapshotMigrations } from '../actors/actor-codec.ts';
import type { PersistedSnapshot } from '../actors/decider.ts';
import { historyMessage } from './history-rows.ts';

/** Where a stored window's members are read back from. */
export type QueueHistory = Pick<HistoryStore, 'listBySeq'>;

/** A queue's context as stored: the window in its slim form. */
export type StoredQueueContext = Omit<CorrespondentQueueContext, 'window'> & { readonly window: StoredWindow };

/** A notification as stored: the message is a history row, so only its size in the window is kept. */
interface StoredNotification {
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly size: number;
}

/** The window of a stored queue context, its members read from history. */
export async function loadWindow(history: QueueHistory, context: StoredQueueContext): Promise<DecodedWindow> {
  const { botId, correspondentId, limits, window } = context;
  const rows = await history.listBySeq(botId, correspondentId, window.members);
  return decodeWindow(window, new Map(rows.map((row) => [row.seq, historyMessage(row)])), limits);
}

/**
 * The queue's stored form: the window as `StoredWindow`, and a notification as the id and size of
 * its message. Both are decoded from history, which holds every message of the window from its
 * arrival on; a member whose row is missing is logged and left out rather than failing the restore.
 */
export function createQueueCodec(history: QueueHistory, log: Logger): ActorCodec<CorrespondentQueueEffects> {
  return {
    encode(snapshot) {
      const context = snapshot.context as CorrespondentQueueContext;
      return { ...snapshot, context: { ...context, window: encodeWindow(context.window, context.limits) } };
    },
    async decode(stored) {
      const snapshot = stored as PersistedSnapshot & { readonly context: StoredQueueContext };
      const context = snapshot.context as Partial<StoredQueueContext> | undefined;
      if (context?.limits === undefined || !isStoredWindow(context.window)) {
        throw new ParleyError('INCOMPATIBLE_SNAPSHOT', `a correspondent queue of bot ${String(context?.botId)} is stored without the window this machine version stores`);
      }
      const { window, missing } = await loadWindow(history, snapshot.context);
      const { botId } = snapshot.context;
      if (missing.length > 0) log.error({ botId, missing }, 'queue window members missing from history: the window is rebuilt without them');
      else if (window.totalChars !== snapshot.context.window.totalChars) {
        log.warn({ botId, stored: snapshot.context.window.totalChars, rebuilt: window.totalChars }, 'queue window rebuilt from history differs in size from the one stored');
      }
      return { ...snapshot, context: { ...snapshot.context, window } };
    },
    encodeEffect(effect) {
      if (effect.type !== 'notifyListeners') return effect.params;
      const { botId, correspondentId, message } = effect.params;
      const stored: StoredNotification = { botId, correspondentId, messageId: message.id, size: message.size };
      return stored;
    },
    async decodeEffect(stored) {
      // A notification stored by machine version 1 still carries its message.
      if (stored.type !== 'notifyListeners' || !isStoredNotification(stored.params)) return stored;
      const { botId, correspondentId, messageId, size } = stored.params;
      const [row] = await history.listBySeq(botId, correspondentId, [[messageId, messageId]]);
      if (row === undefined) {
        log.error({ botId, messageId }, 'message of an unacknowledged notification missing from history: not notified again');
        return null;
      }
      const params: NotifyListenersParams = { botId, correspondentId, message: finalMessageFromHistory(historyMessage(row), size) };
      return { ...stored, params };
    },
  };
}

/**
 * Machine version 1 stored the whole window, bodies included: it restores as it is, and the next
 * write stores it slim.
 */
export function queueMigrations(log: Logger): SnapshotMigrations {
  return {
    1: async (stored, record) => {
      const window = (stored as { context?: { window?: { messages?: unknown } } }).context?.window;
      if (!Array.isArray(window?.messages)) {
        throw new ParleyError('INCOMPATIBLE_SNAPSHOT', `${record.kind} ${record.id} was stored by machine version 1 but holds no window`);
      }
      log.info({ botId: record.botId }, 'queue snapshot of machine version 1 restored; stored slim from its next write');
      return stored as PersistedSnapshot;
    },
  };
}

function isStoredNotification(params: unknown): params is StoredNotification {
  return (
    typeof params === 'object' && params !== null &&
    'botId' in params && typeof params.botId === 'string' &&
    'correspondentId' in params && typeof params.correspondentId === 'string' &&
    'messageId' in params && typeof params.messageId === 'number' &&
    'size' in params && typeof params.size === 'number'
  );
}
