import type { FastifyError, FastifyInstance } from 'fastify';
import { isParleyError } from '../domain/errors.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { HTTP_STATUS } from './error-registry.ts';
import type { ErrorBody } from './error-registry.ts';

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
};

/** Maps every thrown error to `{error:{code,message}}`; stack traces stay in the log. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, body } = toResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ code: body.error.code }, 'request rejected');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

function toResponse(err: FastifyError): { status: number; body: ErrorBody } {
  if (isParleyError(err)) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details !== undefined && HTTP_STATUS[err.code] < 500) body.error.details = { ...err.details };
    return { status: HTTP_STATUS[err.code], body };
  }
  if (err.validation !== undefined) {
    const first = err.validation[0];
    // Ajv reports a missing or extra property on its parent object; name the property itself.
    const child = first?.params?.['missingProperty'] ?? first?.params?.['additionalProperty'];
    const path = (first?.instancePath ?? '') + (child === undefined ? '' : `/${String(child)}`);
    return {
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', message: `${err.validationContext ?? 'request'}${path.replace(/\//g, '.')}: ${first?.message ?? 'invalid'}` } },
    };
  }
  const mapped = err.code === undefined ? undefined : FASTIFY_CODES[err.code];
  if (mapped !== undefined) return { status: HTTP_STATUS[mapped], body: { error: { code: mapped, message: err.message } } };
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, body: { error: { code: 'VALIDATION_FAILED', message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } };
}
