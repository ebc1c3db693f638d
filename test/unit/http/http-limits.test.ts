import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { DEFAULT_HTTP_LIMITS, resolveHttpLimits, serverTimeouts } from '../../../src/http/http-limits.ts';

describe('HTTP limits', () => {
  it('default to a small body limit, a large one for media only, and timeouts on every connection', () => {
    expect(loadConfig({})).toMatchObject({
      bodyLimitBytes: 1024 * 1024,
      mediaBodyLimitBytes: 25 * 1024 * 1024,
      maxConcurrentLargeBodies: 4,
      httpRequestTimeoutMs: 30_000,
      httpHeadersTimeoutMs: 10_000,
      httpConnectionTimeoutMs: 60_000,
      httpKeepAliveTimeoutMs: 5_000,
      maxEventStreams: 32,
      maxEventStreamsPerClient: 4,
    });
    const options = serverTimeouts(DEFAULT_HTTP_LIMITS);
    expect(options).toEqual({
      requestTimeout: 30_000,
      connectionTimeout: 60_000,
      keepAliveTimeout: 5_000,
      http: { requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
    });
  });

  it('keep the headers timeout within the request timeout, as Node requires, and sweep for both often enough', () => {
    const options = serverTimeouts(resolveHttpLimits({ requestTimeoutMs: 2_000, headersTimeoutMs: 10_000 }));
    expect(options.http).toEqual({ requestTimeout: 2_000, headersTimeout: 2_000, connectionsCheckingInterval: 500 });
  });

  it('take the defaults for settings left out or undefined', () => {
    expect(resolveHttpLimits({ maxEventStreams: 3, requestTimeoutMs: undefined })).toEqual({ ...DEFAULT_HTTP_LIMITS, maxEventStreams: 3 });
  });

  it('refuse settings out of range', () => {
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0', MAX_CONCURRENT_LARGE_BODIES: '0' })).toThrow(/MAX_CONCURRENT_LARGE_BODIES must be between[\s\S]*HTTP_REQUEST_TIMEOUT_MS must be between/);
  });
});
