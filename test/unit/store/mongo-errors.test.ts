import { MongoBulkWriteError, MongoNetworkError, MongoServerError, MongoServerSelectionError, MongoWriteConcernError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { guard, translateMongoError } from '../../../src/adapters/mongodb/mongo-errors.ts';
import { ParleyError } from '../../../src/domain/errors.ts';

const serverError = (fields: Record<string, unknown>) => new MongoServerError({ message: 'boom', ...fields } as never);

describe('driver error translation', () => {
  it('maps duplicate keys to STORE_DUPLICATE_KEY with the index name', () => {
    const err = translateMongoError(
      serverError({ code: 11000, errmsg: 'E11000 duplicate key error collection: p.bots index: _id_ dup key: { _id: "a" }', message: 'E11000 duplicate key error collection: p.bots index: _id_ dup key: { _id: "a" }', keyPattern: { _id: 1 } }),
      'bots.create',
    );
    expect(err).toMatchObject({ code: 'STORE_DUPLICATE_KEY', details: { index: '_id_', keyPattern: { _id: 1 } } });
  });

  it('maps time limits, network failures and server selection', () => {
    expect(translateMongoError(serverError({ code: 50 }), 'x').code).toBe('STORE_TIMEOUT');
    expect(translateMongoError(new MongoNetworkError('reset'), 'x').code).toBe('STORE_UNAVAILABLE');
    expect(translateMongoError(new MongoServerSelectionError('no server', {} as never), 'x').code).toBe('STORE_UNAVAILABLE');
    expect(translateMongoError(serverError({ code: 2, codeName: 'BadValue' }), 'x')).toMatchObject({ code: 'STORE_ERROR', message: 'x: BadValue (2)' });
  });

  it('maps a primary stepping down, an election and a write-concern failure to STORE_UNAVAILABLE (503), not STORE_ERROR', () => {
    for (const code of [10107, 189, 11602, 91, 64]) expect(translateMongoError(serverError({ code }), 'x').code).toBe('STORE_UNAVAILABLE');
    const labelled = serverError({ code: 6 });
    labelled.addErrorLabel('RetryableWriteError');
    expect(translateMongoError(labelled, 'x').code).toBe('STORE_UNAVAILABLE');
  });

  it('maps a bulk write that failed as a whole like the error it wraps, and any write-concern error to STORE_UNAVAILABLE', () => {
    // As the driver builds them: a batch whose connection dropped, and a reply carrying writeConcernError.
    const dropped = new MongoBulkWriteError(new MongoNetworkError('connection reset'), {} as never);
    expect(translateMongoError(dropped, 'x').code).toBe('STORE_UNAVAILABLE');
    const unconfirmed = new MongoWriteConcernError({ ok: 1, n: 1, writeConcernError: { code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'no' } });
    expect(translateMongoError(unconfirmed, 'x').code).toBe('STORE_UNAVAILABLE');
  });

  it('passes Parley errors through and wraps anything else', async () => {
    const own = new ParleyError('NOT_FOUND', 'nope');
    expect(translateMongoError(own, 'x')).toBe(own);
    await expect(guard('op', async () => Promise.reject(new Error('weird')))).rejects.toMatchObject({ code: 'STORE_ERROR', message: 'op: weird' });
  });
});
