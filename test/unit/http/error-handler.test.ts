import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES, ParleyError, errorStatus } from '../../../src/domain/errors.ts';
import type { ErrorCode } from '../../../src/domain/errors.ts';
import { installErrorHandler } from '../../../src/http/error-handler.ts';

interface ErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The published contract: clients match on these, so neither a code nor its status may change. */
const PUBLISHED: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  VALIDATION_FAILED: 400,
  BAD_URL: 400,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BOT_EXISTS: 409,
  BOT_BEING_DELETED: 409,
  BOT_NOT_RUNNING: 409,
  LIMIT_REACHED: 409,
  JOB_NOT_RETRYABLE: 409,
  MESSAGE_NOT_RETRYABLE: 409,
  DELIVERY_NOT_RETRYABLE: 409,
  WEBHOOK_URL_REFUSED: 400,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_LARGE_BODIES: 429,
  TOO_MANY_STREAMS: 429,
  STORE_UNAVAILABLE: 503,
  STORE_TIMEOUT: 503,
  SHUTTING_DOWN: 503,
  OWNER_UNAVAILABLE: 503,
  LEASE_LOST: 503,
  STORE_DUPLICATE_KEY: 409,
  STORE_WRITE_CONFLICT: 409,
  STORE_ERROR: 500,
  STORE_MIGRATION_REQUIRED: 500,
  INCOMPATIBLE_SNAPSHOT: 500,
  SECRET_UNREADABLE: 500,
  NOT_SUPPORTED_BY_PROVIDER: 409,
  ALREADY_PAIRED: 409,
  PAIRING_NOT_READY: 409,
  PROVIDER_ERROR: 502,
  WEBHOOK_SIGNATURE_INVALID: 401,
  WEBHOOK_VERIFICATION_FAILED: 403,
  MALFORMED_PAYLOAD: 400,
  INTERNAL: 500,
};

const SECRET = 'mongodb://admin:hunter2@db.internal:27017 refused';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app whose routes throw what the test hands them, with a fixed request id to look for. */
async function throwing(thrown: () => unknown, bodyLimit?: number): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false, genReqId: () => 'req-42', ...(bodyLimit === undefined ? {} : { bodyLimit }) });
  installErrorHandler(instance);
  instance.post('/fail', async () => {
    throw thrown();
  });
  await instance.ready();
  app = instance;
  return instance;
}

describe('error catalogue', () => {
  it('gives every code a status and a message template', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const code of ERROR_CODES) {
      const { status, message } = ERROR_CATALOGUE[code];
      expect(Number.isInteger(status) && status >= 400 && status <= 599, code).toBe(true);
      expect(message.trim().length, code).toBeGreaterThan(0);
      expect(message, code).not.toMatch(/\{\s*\}|\{[^}]*$/);
    }
  });

  it('keeps every published code with its status', () => {
    expect(Object.fromEntries(ERROR_CODES.map((code) => [code, errorStatus(code)]))).toEqual(PUBLISHED);
  });

  it('fills a template from the parameters its code names', () => {
    expect(ParleyError.of('BOT_EXISTS', { id: 'b1' })).toMatchObject({ code: 'BOT_EXISTS', message: 'Bot b1 already exists' });
    expect(ParleyError.of('JOB_NOT_RETRYABLE', { id: 'j1', state: 'delivered' }).message).toBe('Media job j1 is delivered; only failed jobs can be retried');
    expect(ParleyError.of('RATE_LIMITED', { after: '1 minute' }, { details: { limit: 2 } })).toMatchObject({ details: { limit: 2 } });
    // @ts-expect-error the template names {id}
    ParleyError.of('BOT_EXISTS');
    // @ts-expect-error {bot} is not a parameter of this template
    ParleyError.of('BOT_EXISTS', { bot: 'b1' });
    // @ts-expect-error {state} is missing
    ParleyError.of('JOB_NOT_RETRYABLE', { id: 'j1' });
  });
});

describe('error handler', () => {
  it.each(ERROR_CODES.map((code) => [code]))('answers a ParleyError %s with the catalogue status and the code', async (code) => {
    const server = await throwing(() => new ParleyError(code, `specific text: ${SECRET}`, { details: { field: 'x' } }));
    const res = await server.inject({ method: 'POST', url: '/fail' });
    const status = ERROR_CATALOGUE[code].status;
    expect(res.statusCode).toBe(status);
    const { error } = res.json<ErrorJson>();
    expect(error.code).toBe(code);
    if (status < 500) {
      expect(error).toEqual({ code, message: `specific text: ${SECRET}`, details: { field: 'x' } });
    } else {
      expect(error.message).not.toContain('hunter2');
      expect(error.message).not.toContain('specific text');
      expect(error.message).toContain('req-42');
      expect(error.details).toBeUndefined();
    }
  });

  it('answers an unexpected error with 500 INTERNAL, a generic message and the request id', async () => {
    const server = await throwing(() => new Error(SECRET));
    const res = await server.inject({ method: 'POST', url: '/fail' });
    expect(res.statusCode).toBe(500);
    const { error } = res.json<ErrorJson>();
    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('refused');
    expect(error.message).toBe('Internal Server Error; the log has the details under request req-42');
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('answers a store outage with 503 and its own code, but not the driver text', async () => {
    const server = await throwing(() => ParleyError.of('STORE_UNAVAILABLE', { operation: SECRET }));
    const res = await server.inject({ method: 'POST', url: '/fail' });
    expect(res.statusCode).toBe(503);
    expect(res.json<ErrorJson>().error).toEqual({ code: 'STORE_UNAVAILABLE', message: 'Service Unavailable; the log has the details under request req-42' });
  });

  it("says Fastify's own refusals in the catalogue's terms", async () => {
    const server = await throwing(() => new Error('unreachable'), 64);
    const large = await server.inject({ method: 'POST', url: '/fail', payload: { text: 'x'.repeat(100) } });
    expect(large.statusCode).toBe(413);
    expect(large.json<ErrorJson>().error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'Request body is larger than 64 bytes' });
    const broken = await server.inject({ method: 'POST', url: '/fail', headers: { 'content-type': 'application/json' }, payload: '{"text":' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json<ErrorJson>().error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body: /) });
    const missing = await server.inject({ method: 'GET', url: '/nowhere?key=secret' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<ErrorJson>().error).toEqual({ code: 'NOT_FOUND', message: 'Route GET /nowhere not found' });
  });
});
