import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../logging/logger.ts';
import type { SimulatorWorld } from '../../ports/simulator-world.port.ts';

/** Waits between the tries of a session record; one try more than there are delays. */
export const DEFAULT_LOG_RETRY_DELAYS_MS: readonly number[] = [50, 250, 1_000];

export interface SessionLogOptions {
  readonly world: SimulatorWorld;
  readonly instanceId: string;
  readonly retryDelaysMs: readonly number[];
  /** Sessions kept per bot, the newest. */
  readonly keepSessions: number;
  readonly logger: Pick<Logger, 'warn'>;
}

/** A session as the log knows it; its records are written one after another, in the order asked. */
export interface LoggedSession {
  readonly sessionId: string;
  readonly botId: string;
  /** True once the start record is durable; false when every try failed. */
  readonly recorded: Promise<boolean>;
}

interface OpenSession extends LoggedSession {
  tail: Promise<unknown>;
}

/**
 * Writes the simulator's session records. A store hiccup must neither stall nor fail a bot, so
 * each write is tried a few times and then given up with a warning; none of these promises
 * rejects. Records of one session are chained so an end never overtakes the start it ends.
 */
export function createSessionLog(options: SessionLogOptions) {
  const { world, instanceId, retryDelaysMs, keepSessions, logger } = options;
  const open = new WeakMap<LoggedSession, OpenSession>();

  async function tried(context: { botId: string; sessionId?: string }, what: string, write: () => Promise<void>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        return true;
      } catch (err) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined) {
          logger.warn({ ...context, err, attempts: attempt + 1 }, `simulator: could not record ${what}; given up`);
          return false;
        }
        await sleep(delay);
      }
    }
  }

  function chain(session: LoggedSession, what: string, write: () => Promise<void>): Promise<boolean> {
    const entry = open.get(session);
    if (entry === undefined) return Promise.resolve(false);
    const next = entry.tail.then(() => tried({ botId: session.botId, sessionId: session.sessionId }, what, write));
    entry.tail = next;
    return next;
  }

  return {
    /** Opens a session record at `at`; its start is written at once. */
    begin(botId: string, at: Date): LoggedSession {
      const sessionId = randomUUID();
      const recorded = tried({ botId, sessionId }, 'the start of a session', () =>
        world.sessionStarted({ sessionId, botId, instanceId, startedAt: at }, keepSessions),
      );
      const session: OpenSession = { sessionId, botId, recorded, tail: recorded };
      open.set(session, session);
      return session;
    },
    connected(session: LoggedSession, at: Date): Promise<boolean> {
      return chain(session, 'the connection of a session', () => world.sessionConnected(session.sessionId, at));
    },
    /** Resolves once the end is written or given up. */
    end(session: LoggedSession, at: Date, reason: string): Promise<boolean> {
      return chain(session, 'the end of a session', () => world.sessionEnded(session.sessionId, at, reason));
    },
    /** Deletes a deleted bot's records, tried like the others. */
    forget(botId: string): Promise<boolean> {
      return tried({ botId }, "a deleted bot's records", () => world.forget(botId));
    },
  };
}

export type SessionLog = ReturnType<typeof createSessionLog>;
