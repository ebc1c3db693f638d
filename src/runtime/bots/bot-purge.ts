import type { Logger } from '../../logging/logger.ts';
import type { Store } from '../../ports/store.port.ts';
import type { Conversations } from '../conversations/conversations.ts';
import type { InspectionHub } from '../actors/inspection-hub.ts';

export interface BotPurgeDeps {
  readonly store: Store;
  readonly conversations: Pick<Conversations, 'dropBot'>;
  readonly inspection: Pick<InspectionHub, 'botRemoved'>;
  readonly logger: Logger;
}

/** What one purge removed, for the log line and for tests. */
export interface PurgeReport {
  readonly unloadedQueues: number;
  readonly mediaJobs: number;
  readonly history: number;
  readonly outbox: number;
  readonly actors: number;
  readonly credentials: number;
}

/**
 * Removes everything a stopped bot owns except its definition. Queues are unloaded first, after
 * the work already queued on them, so nothing in this process writes for the bot again; jobs go
 * next, so a worker still processing one finds no job to report to and its result is dropped
 * (compare-and-set on a missing row), instead of finalizing a placeholder whose row is gone.
 */
export function createBotPurge(deps: BotPurgeDeps) {
  const log = deps.logger.child({ scope: 'bot-purge' });
  return async function purge(botId: string): Promise<PurgeReport> {
    const unloadedQueues = await deps.conversations.dropBot(botId);
    const mediaJobs = await deps.store.mediaJobs.deleteByBot(botId);
    const history = await deps.store.history.deleteByBot(botId);
    const outbox = await deps.store.outbox.deleteByBot(botId);
    const actors = await deps.store.actors.deleteByBot(botId);
    const credentials = await deps.store.authState.clear(botId);
    deps.inspection.botRemoved(botId);
    const report = { unloadedQueues, mediaJobs, history, outbox, actors, credentials };
    log.info({ botId, ...report }, 'deleted bot purged');
    return report;
  };
}
