/** MongoDB error codes the server reports; names follow the server's `codeName` strings. */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  Overflow: 15,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  InvalidBSON: 22,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  CannotCreateIndex: 67,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  InvalidIndexSpecificationOption: 197,
  QueryFeatureNotAllowed: 224,
  NotImplemented: 238,
  UnsupportedOpQueryCommand: 352,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  Location17420: 17420,
  Location40324: 40324,
  IDLUnknownField: 40415,
  Location40571: 40571,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

const namesByCode = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

/** The `codeName` MongoDB pairs with `code`, or undefined for location-only codes. */
export function codeNameOf(code: number): string | undefined {
  const name = namesByCode.get(code);
  return name === undefined || name.startsWith('Location') ? undefined : name;
}

/** A failure that becomes `{ok: 0, errmsg, code, codeName}` (or a write error) in the reply. */
export class CommandError extends Error {
  readonly code: number;
  /** Extra fields copied into the error reply, e.g. keyPattern/keyValue for duplicate keys. */
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.extra = extra;
  }

  /** Top-level command error reply. */
  toReply(): Record<string, unknown> {
    const codeName = codeNameOf(this.code);
    return { ok: 0, errmsg: this.message, code: this.code, ...(codeName ? { codeName } : {}), ...this.extra };
  }

  /** Entry of a write command's `writeErrors` array (MongoDB omits codeName there). */
  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

/** Shorthand for throwing a CommandError with a named code. */
export function fail(name: ErrorCodeName, message: string, extra?: Record<string, unknown>): never {
  throw new CommandError(ErrorCodes[name], message, extra);
}
