import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInbound } from '../../../src/adapters/simulator/simulator-inbound.ts';

const inbound = (dataBase64: string) => ({ from: '1555', media: { kind: 'image', mimetype: 'image/png', dataBase64 } });

/** The decoded bytes in hex, or the refusal. */
function outcome(dataBase64: string): string {
  try {
    return Buffer.from(parseInbound(inbound(dataBase64)).media!.bytes).toString('hex');
  } catch (err) {
    return `refused: ${(err as Error).message}`;
  }
}

const accepted = (result: string): string => (result.startsWith('refused: ') ? 'refused' : result);

/** What the check said when it trimmed padding with a regular expression: the reference on short inputs. */
function byRegex(data: string): string {
  const normalized = data.replace(/\s+/g, '').replace(/=+$/, '');
  const bytes = Buffer.from(normalized, 'base64');
  if (bytes.byteLength === 0 || bytes.toString('base64').replace(/=+$/, '') !== normalized) return 'refused';
  return bytes.toString('hex');
}

describe('media.dataBase64 of a simulated inbound message', () => {
  it('takes padded, unpadded and wrapped base64 and refuses anything else, as before', () => {
    expect(outcome('AAECAw==')).toBe('00010203');
    expect(outcome('AAECAw')).toBe('00010203');
    expect(outcome('AAEC\r\nAw==\n')).toBe('00010203');
    expect(outcome('AAECAw===')).toBe('00010203');
    for (const bad of ['====', 'AA=A', 'not*base64!', '-_-_']) expect(outcome(bad)).toMatch(/^refused: media.dataBase64: /);
    const alphabet = fc.constantFrom('A', 'Q', 'z', '0', '+', '/', '=', ' ', '\n', '-', '*');
    fc.assert(
      fc.property(fc.array(alphabet, { minLength: 1, maxLength: 40 }).map((chars) => chars.join('')), (data) => {
        expect(accepted(outcome(data))).toBe(byRegex(data));
      }),
      { numRuns: 3000, seed: 3 },
    );
  });

  // 100 KB of '=' then one other character held the event loop for 7 s; the media body limit
  // allows 250 times as much, for hours.
  it.each([
    ['= then A', `${'='.repeat(50_000)}A`],
    ['= then a space and A', `${'='.repeat(50_000)} A`],
    ['spaces then A', `${' '.repeat(50_000)}A`],
    ['= and spaces alternating then A', `${'= '.repeat(25_000)}A`],
  ])('checks 50 KB of %s within 50 ms', (_label, data) => {
    const start = performance.now();
    expect(outcome(data)).toMatch(/^refused: /);
    expect(performance.now() - start).toBeLessThan(50);
  });
});
