import { MongoBulkWriteError, MongoError, MongoServerError, type CommandFailedEvent, type CommandStartedEvent, type CommandSucceededEvent, type Document } from 'mongodb';
import { assertMatches, MatchError, type EntityLookup } from './unified-match.ts';
import { bulkResultDoc } from './unified-operations.ts';

/** An observed command monitoring event, tagged with the format's name for its type. */
export type CommandEvent =
  | { readonly type: 'commandStartedEvent'; readonly event: CommandStartedEvent }
  | { readonly type: 'commandSucceededEvent'; readonly event: CommandSucceededEvent }
  | { readonly type: 'commandFailedEvent'; readonly event: CommandFailedEvent };

/** `expectEvents` entry for one client. */
export interface ExpectedEvents {
  readonly client: string;
  readonly eventType?: string;
  readonly events: readonly Document[];
  readonly ignoreExtraEvents?: boolean;
}

/**
 * Matches an operation's result. Results are root-level documents (extra fields allowed), and so
 * are the documents of a cursor's results; other arrays (distinct values) match element by element.
 */
export function assertResult(expected: unknown, actual: unknown, entities: EntityLookup, cursor = false): void {
  if (cursor && Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) throw new MatchError('result', `expected ${expected.length} documents, got ${actual.length}: ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => assertMatches(e, actual[i], { root: true, entities }, `result[${i}]`));
    return;
  }
  assertMatches(expected, actual, { root: true, entities }, 'result');
}

/** The server reply behind an error, when there is one. */
function serverResponse(err: unknown): Document | undefined {
  return err instanceof MongoServerError ? (err.errorResponse as Document) : undefined;
}

/** Checks an error against an `expectError` document. */
export function assertError(expected: Document, err: unknown, entities: EntityLookup): void {
  if (err === undefined) throw new MatchError('error', `expected an error, the operation succeeded`);
  if (!(err instanceof Error)) throw new MatchError('error', `expected an Error, got ${String(err)}`);
  const isServer = err instanceof MongoServerError;
  if (expected.isClientError !== undefined && expected.isClientError === isServer) {
    throw new MatchError('error', `expected a ${expected.isClientError ? 'client' : 'server'} error, got ${err.name}: ${err.message}`);
  }
  if (expected.errorContains !== undefined && !err.message.toLowerCase().includes(String(expected.errorContains).toLowerCase())) {
    throw new MatchError('error', `expected the message to contain "${String(expected.errorContains)}", got "${err.message}"`);
  }
  const server = err instanceof MongoServerError ? err : undefined;
  if (expected.errorCode !== undefined && server?.code !== expected.errorCode) {
    throw new MatchError('error', `expected code ${String(expected.errorCode)}, got ${String(server?.code)} (${err.message})`);
  }
  if (expected.errorCodeName !== undefined && String(server?.codeName).toLowerCase() !== String(expected.errorCodeName).toLowerCase()) {
    throw new MatchError('error', `expected codeName ${String(expected.errorCodeName)}, got ${String(server?.codeName)}`);
  }
  for (const label of (expected.errorLabelsContain as string[] | undefined) ?? []) {
    if (!(err instanceof MongoError && err.hasErrorLabel(label))) throw new MatchError('error', `expected label ${label}`);
  }
  for (const label of (expected.errorLabelsOmit as string[] | undefined) ?? []) {
    if (err instanceof MongoError && err.hasErrorLabel(label)) throw new MatchError('error', `unexpected label ${label}`);
  }
  if (expected.errorResponse !== undefined) assertMatches(expected.errorResponse, serverResponse(err), { root: true, entities }, 'errorResponse');
  if (expected.expectResult !== undefined) {
    const partial = err instanceof MongoBulkWriteError ? bulkResultDoc(err.result) : undefined;
    assertMatches(expected.expectResult, partial, { root: true, entities }, 'error.result');
  }
}

function assertEvent(expected: Document, actual: CommandEvent | undefined, index: number, entities: EntityLookup): void {
  const [type, fields] = Object.entries(expected)[0] as [string, Document];
  const at = `events[${index}]`;
  if (!actual) throw new MatchError(at, `expected ${type}, no event observed`);
  if (actual.type !== type) throw new MatchError(at, `expected ${type}, got ${actual.type} for ${actual.event.commandName}`);
  const event = actual.event as unknown as Document;
  for (const [field, value] of Object.entries(fields)) {
    if (field === 'command' || field === 'reply') assertMatches(value, event[field], { root: true, entities }, `${at}.${field}`);
    else if (field === 'commandName' || field === 'databaseName') assertMatches(value, event[field], { root: false, entities }, `${at}.${field}`);
    else throw new Error(`event assertion ${field} is not supported by this runner`);
  }
}

/** Checks the command events a client observed against `expectEvents` (in order, extra events only when allowed). */
export function assertEvents(expected: ExpectedEvents, observed: readonly CommandEvent[]): void {
  if (expected.eventType !== undefined && expected.eventType !== 'command') throw new Error(`${expected.eventType} events are not supported by this runner`);
  const names = observed.map((e) => `${e.type}:${e.event.commandName}`).join(', ');
  const tooMany = expected.ignoreExtraEvents ? false : observed.length > expected.events.length;
  if (tooMany || observed.length < expected.events.length) {
    throw new MatchError('events', `expected ${expected.events.length} events, observed ${observed.length}: ${names}`);
  }
  const entities: EntityLookup = (name) => {
    throw new Error(`entity ${name} cannot be matched inside events by this runner`);
  };
  expected.events.forEach((e, i) => assertEvent(e, observed[i], i, entities));
}
