import type { Doc } from '../bson-values.ts';
import type { CursorRegistry } from '../cursors.ts';
import { fail } from '../errors.ts';
import type { Store } from '../store.ts';

/** Optional structured logger (pino-compatible subset). */
export interface WireLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Server-wide facts some commands report. */
export interface ServerInfo {
  readonly host: string;
  readonly port: number;
  readonly startedAt: number;
  connections(): number;
}

/** Everything a command handler may use; handlers run synchronously, so each command is atomic. */
export interface CommandContext {
  readonly store: Store;
  readonly cursors: CursorRegistry;
  readonly connectionId: number;
  /** Database named by `$db`. */
  readonly db: string;
  readonly server: ServerInfo;
  readonly logger: WireLogger | undefined;
}

/** Executes one command and returns its reply document (errors are thrown as CommandError). */
export type CommandHandler = (cmd: Doc, ctx: CommandContext) => Doc;

/** The collection name carried as the value of the command's own field, e.g. `{find: 'users'}`. */
export function collectionName(cmd: Doc, command: string): string {
  const name = cmd[command];
  if (typeof name !== 'string' || name.length === 0) {
    fail('InvalidNamespace', `collection name has invalid type ${name === null ? 'null' : typeof name}`);
  }
  return name;
}

/** A non-negative integer option (Long/number accepted), or the default when absent. */
export function intOption(cmd: Doc, field: string, fallback: number): number {
  const raw = cmd[field];
  if (raw === undefined || raw === null) return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw));
  if (!Number.isFinite(n) || !Number.isInteger(n)) fail('BadValue', `Field '${field}' must be an integer`);
  return n;
}

/** Document-valued option (`filter`, `sort`, ...), or undefined when absent. */
export function docOption(cmd: Doc, field: string): Doc | undefined {
  const raw = cmd[field];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('TypeMismatch', `BSON field '${field}' is the wrong type '${Array.isArray(raw) ? 'array' : typeof raw}', expected type 'object'`);
  return raw as Doc;
}
