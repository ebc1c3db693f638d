import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactPath } from '../../../src/logging/logger.ts';

/** What the request log printed before masking became linear: the reference on short inputs. */
const byRegex = (url: string): string => url.replace(/\+?\d{6,}/g, '[redacted]').replace(/([?&][^=&]*=)[^&]*/g, '$1[redacted]');

/**
 * The fastest of up to three runs, so a garbage collection in one run does not fail the bound; a
 * run ten times over it is no accident, and a quadratic mask is not run again.
 */
function fastestMs(boundMs: number, work: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3 && (i === 0 || (best >= boundMs && best < 10 * boundMs)); i++) {
    const start = performance.now();
    work();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

describe('redactPath', () => {
  it('masks phone-number-like digit runs and query values', () => {
    expect(redactPath('/v1/bots/b1/correspondents/4915112345678/messages?token=abc')).toBe('/v1/bots/b1/correspondents/[redacted]/messages?token=[redacted]');
    expect(redactPath('/v1/bots/b1/correspondents/+4915112345678@s.whatsapp.net/history')).toBe('/v1/bots/b1/correspondents/[redacted]@s.whatsapp.net/history');
    expect(redactPath('/inspect?key=k&x=&flag&y=12345678')).toBe('/inspect?key=[redacted]&x=[redacted]&flag&y=[redacted]');
    expect(redactPath('/v1/jobs/12345?botId=b')).toBe('/v1/jobs/12345?botId=[redacted]');
    expect(redactPath('/healthz')).toBe('/healthz');
  });

  it('says exactly what the regular expressions said, on any URL-like input', () => {
    const alphabet = fc.constantFrom('?', '&', '=', '+', '/', '1', '2', '9', 'a', 'b', '%', '@');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }).map((chars) => chars.join('')), (url) => {
        expect(redactPath(url)).toBe(byRegex(url));
      }),
      { numRuns: 2000, seed: 9 },
    );
  });

  // An unauthenticated client controls the whole URL; 64 KB is four times what Node's header limit lets through.
  it.each([
    ['a run of ?', `/healthz?${'?'.repeat(64 * 1024)}`],
    ['a run of & with names and no =', `/healthz?${'&a'.repeat(32 * 1024)}`],
    ['a name without =', `/healthz?${'a'.repeat(64 * 1024)}`],
    ['? and = alternating', `/healthz${'?='.repeat(32 * 1024)}`],
    ['short digit runs', `/healthz/${'12345+'.repeat(11 * 1024)}`],
    ['a run of +', `/healthz/${'+'.repeat(64 * 1024)}1`],
  ])('masks a 64 KB URL of %s within 50 ms', (_label, url) => {
    expect(fastestMs(50, () => redactPath(url))).toBeLessThan(50);
  });
});
