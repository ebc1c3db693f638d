import { MongoBulkWriteError, MongoError, MongoNetworkError, MongoNetworkTimeoutError, MongoServerError, MongoServerSelectionError, MongoWriteConcernError } from 'mongodb';
import { ParleyError } from '../../domain/errors.ts';

const TIMEOUT_CODES = new Set([50, 89, 262]); // MaxTimeMSExpired, NetworkTimeout, ExceededTimeLimit
const WRITE_CONFLICT_CODES = new Set([112]); // WriteConflict
// A replica set changing its primary: NotWritablePrimary, PrimarySteppedDown, NotPrimaryNoSecondaryOk,
// NotPrimaryOrSecondary, InterruptedDueToReplStateChange, ShutdownInProgress, InterruptedAtShutdown,
// WriteConcernFailed. The store is briefly unavailable, not broken: a retry after the election succeeds.
const FAILOVER_CODES = new Set([10107, 189, 13435, 13436, 11602, 91, 11600, 64]);

/** Translates a driver error into Parley's error codes; everything above this boundary sees only those. */
export function translateMongoError(err: unknown, operation: string): ParleyError {
  if (err instanceof ParleyError) return err;
  // A bulk write that failed as a whole (a lost connection, no server to select) wraps the driver's
  // error in a MongoServerError: a network failure would otherwise read as a server one.
  if (err instanceof MongoBulkWriteError && err.errorResponse instanceof MongoError) return translateMongoError(err.errorResponse, operation);
  // The write reached the primary but was not confirmed replicated (a timeout, a step-down): it may
  // be rolled back, so it is not reported done, whatever else the reply says (duplicates included).
  if (isWriteConcernFailure(err)) return ParleyError.of('STORE_UNAVAILABLE', { operation }, { cause: err });
  if (err instanceof MongoServerError) {
    if (err.code === 11000) {
      return ParleyError.of('STORE_DUPLICATE_KEY', { operation }, { details: { index: indexName(err.message), keyPattern: err.keyPattern }, cause: err });
    }
    if (typeof err.code === 'number' && TIMEOUT_CODES.has(err.code)) {
      return ParleyError.of('STORE_TIMEOUT', { operation }, { cause: err });
    }
    if (typeof err.code === 'number' && WRITE_CONFLICT_CODES.has(err.code)) {
      return ParleyError.of('STORE_WRITE_CONFLICT', { operation }, { cause: err });
    }
    if ((typeof err.code === 'number' && FAILOVER_CODES.has(err.code)) || err.hasErrorLabel('RetryableWriteError')) {
      return ParleyError.of('STORE_UNAVAILABLE', { operation }, { cause: err });
    }
    return ParleyError.of('STORE_ERROR', { operation, reason: `${err.codeName ?? 'server error'} (${String(err.code)})` }, { cause: err });
  }
  if (err instanceof MongoNetworkTimeoutError) {
    return ParleyError.of('STORE_TIMEOUT', { operation }, { cause: err });
  }
  if (err instanceof MongoServerSelectionError || err instanceof MongoNetworkError) {
    return ParleyError.of('STORE_UNAVAILABLE', { operation }, { cause: err });
  }
  if (err instanceof MongoError) {
    if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError')) {
      return ParleyError.of('STORE_UNAVAILABLE', { operation }, { cause: err });
    }
    return ParleyError.of('STORE_ERROR', { operation, reason: err.message }, { cause: err });
  }
  return ParleyError.of('STORE_ERROR', { operation, reason: err instanceof Error ? err.message : String(err) }, { cause: err });
}

/** Runs a driver call and translates whatever it throws. */
export async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw translateMongoError(err, operation);
  }
}

function isWriteConcernFailure(err: unknown): boolean {
  if (err instanceof MongoWriteConcernError) return true;
  return err instanceof MongoBulkWriteError && (err.result?.getWriteConcernError() !== undefined || err.errorResponse['writeConcernError'] !== undefined);
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

function indexName(message: string): string | undefined {
  return /index: (\S+)/.exec(message)?.[1];
}
