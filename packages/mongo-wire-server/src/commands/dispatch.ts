import type { Doc } from '../bson-values.ts';
import { CommandError, ErrorCodes } from '../errors.ts';
import { AGGREGATE_COMMANDS } from './aggregate.ts';
import { COLLECTION_COMMANDS } from './collections.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { EXPLAIN_COMMANDS } from './explain.ts';
import { FIND_AND_MODIFY_COMMANDS } from './find-and-modify.ts';
import { FIND_COMMANDS } from './find.ts';
import { HANDSHAKE_COMMANDS } from './handshake.ts';
import { INDEX_COMMANDS } from './indexes.ts';
import { WRITE_COMMANDS } from './write.ts';

const COMMANDS = new Map<string, CommandHandler>(
  Object.entries({
    ...HANDSHAKE_COMMANDS,
    ...FIND_COMMANDS,
    ...WRITE_COMMANDS,
    ...FIND_AND_MODIFY_COMMANDS,
    ...AGGREGATE_COMMANDS,
    ...COLLECTION_COMMANDS,
    ...INDEX_COMMANDS,
    ...EXPLAIN_COMMANDS,
  }),
);

/** Name of the command in a request body (its first field). */
export function commandName(body: Doc): string {
  for (const key in body) return key;
  return '';
}

/** Context for one command, minus the database (which comes from the request). */
export type ConnectionContext = Omit<CommandContext, 'db'>;

/**
 * Executes one command synchronously and returns its reply; every failure becomes an
 * `{ok: 0, errmsg, code, codeName}` document.
 */
export function runCommand(body: Doc, conn: ConnectionContext): Doc {
  const name = commandName(body);
  try {
    const db = body.$db;
    if (typeof db !== 'string') throw new CommandError(ErrorCodes.Location40571, 'OP_MSG requests require a $db argument');
    const handler = COMMANDS.get(name);
    if (!handler) throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
    if (body.txnNumber !== undefined || body.startTransaction !== undefined || body.autocommit !== undefined) {
      throw new CommandError(ErrorCodes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    return handler(body, { ...conn, db });
  } catch (err) {
    if (err instanceof CommandError) {
      conn.logger?.debug({ command: name, code: err.code, err: err.message }, 'command failed');
      return err.toReply();
    }
    conn.logger?.warn({ command: name, err }, 'command crashed');
    return { ok: 0, errmsg: `internal error: ${(err as Error).message}`, code: ErrorCodes.InternalError, codeName: 'InternalError' };
  }
}
