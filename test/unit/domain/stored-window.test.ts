import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPendingMedia } from '../../../src/domain/media-content.ts';
import { enforceLimits } from '../../../src/domain/queue-eviction.ts';
import { TRUNCATION_MARKER, cutToSize, truncateContent } from '../../../src/domain/queue-limits.ts';
import { emptyWindow, isPlaceholder } from '../../../src/domain/queue-message.ts';
import type { QueueLimits, QueueMessage, QueueWindow } from '../../../src/domain/queue-message.ts';
import { addMediaPlaceholder, addText, finalizeMedia, injectPlaceholder, popReady } from '../../../src/domain/queue-window.ts';
import { decodeWindow, encodeWindow } from '../../../src/domain/stored-window.ts';
import type { HistoryMessage } from '../../../src/domain/stored-window.ts';
import { DAY_MS, limits, media, T0, text } from './queue-fixtures.ts';

/**
 * A window and the history rows the runtime writes beside it: text and placeholder rows on
 * arrival, a placeholder row finalized (and reopened) in place with the whole content.
 */
function conversation(initial: QueueLimits) {
  let window: QueueWindow = emptyWindow();
  let current = initial;
  let now = T0;
  const rows = new Map<number, HistoryMessage>();
  const row = ({ size: _size, mediaJobId: _job, ...m }: QueueMessage, content: string): HistoryMessage => ({ ...m, content });
  return {
    get window() { return window; },
    get limits() { return current; },
    rows,
    text(content: string, elapsed = 0) {
      now += elapsed;
      const r = addText(window, current, text(content), now);
      rows.set(r.message.id, row(r.message, content));
      window = r.window;
      return r.message.id;
    },
    media(jobId: string) {
      const incoming = media(jobId);
      const r = addMediaPlaceholder(window, current, incoming, now);
      rows.set(r.message.id, row(r.message, formatPendingMedia(incoming.media)));
      window = r.window;
      return r.message.id;
    },
    finalize(jobId: string, content: string) {
      const placeholder = window.messages.find((m) => m.mediaJobId === jobId);
      if (placeholder !== undefined) rows.set(placeholder.id, { ...rows.get(placeholder.id)!, content });
      window = finalizeMedia(window, current, jobId, content, now).window;
    },
    /** An operator retry: the row turns back into a placeholder with `content`, and so does the window. */
    reopen(id: number, jobId: string, content: string) {
      const stored = rows.get(id)!;
      rows.set(id, { ...stored, content });
      window = injectPlaceholder(window, current, { ...stored, content, size: 0, mediaJobId: jobId }).window;
    },
    /** A placeholder recovered from its row after a crash, at an id above the window's. */
    inject(id: number, jobId: string, content: string) {
      const { content: _text, ...incoming } = text('');
      rows.set(id, { ...incoming, id, content, acceptedAt: now - 5 * DAY_MS });
      window = injectPlaceholder(window, current, { ...rows.get(id)!, size: 0, mediaJobId: jobId }).window;
    },
    evict(elapsed: number) {
      now += elapsed;
      window = enforceLimits(window, current, now).window;
    },
    pop() {
      window = popReady(window).window;
    },
    changeLimits(next: QueueLimits) {
      current = next;
      window = enforceLimits(window, current, now).window;
    },
  };
}

type Conversation = ReturnType<typeof conversation>;

const roundTrip = (c: Conversation) => decodeWindow(encodeWindow(c.window, c.limits), c.rows, c.limits);

function expectRoundTrip(c: Conversation): void {
  expect(roundTrip(c)).toEqual({ window: c.window, missing: [] });
}

describe('the stored window', () => {
  it('keeps ids, counters and placeholders only, and rebuilds the window from history', () => {
    const c = conversation(limits({}));
    c.text('hello');
    c.media('job-1');
    c.text('how are you?');
    const stored = encodeWindow(c.window, c.limits);
    expect(stored).toEqual({
      nextId: 4, totalChars: c.window.totalChars, members: [[1, 3]],
      placeholders: [{ id: 2, mediaJobId: 'job-1', content: '[Voice message] (processing)' }], lastAcceptedAt: T0,
    });
    expect(JSON.stringify(stored)).not.toContain('hello');
    expectRoundTrip(c);
  });

  it('rebuilds exactly after eviction, pop, finalize, reopen and an injected placeholder', () => {
    const c = conversation(limits({ maxMessages: 4, maxCharacters: 200, maxAgeDays: 1, maxCharactersPerMessage: 40 }));
    c.text('first', 0);
    const voice = c.media('job-1');
    c.text('y'.repeat(90), DAY_MS / 2);
    c.text('third');
    expectRoundTrip(c);
    c.evict(DAY_MS);
    expect(c.window.messages[0]?.id).toBe(voice);
    expectRoundTrip(c);
    c.pop();
    expectRoundTrip(c);
    c.finalize('job-1', 'a transcript longer than the forty characters allowed');
    expectRoundTrip(c);
    c.reopen(voice, 'job-2', '[Voice message] (processing again)');
    expectRoundTrip(c);
    c.text('after the retry');
    c.text('and one more');
    expectRoundTrip(c);
    c.inject(40, 'job-3', '[Image] (processing)');
    expect(c.window.nextId).toBe(41);
    expectRoundTrip(c);
  });

  it('keeps a run per gap that popping leaves behind a placeholder', () => {
    const c = conversation(limits({}));
    c.media('job-1');
    c.text('a');
    c.text('b');
    c.pop();
    expect(encodeWindow(c.window, c.limits).members).toEqual([[1, 1], [3, 3]]);
    expectRoundTrip(c);
  });

  it('stores no size while every message was cut under the limits in force', () => {
    const c = conversation(limits({ maxCharactersPerMessage: 20 }));
    c.text('x'.repeat(50));
    c.text('short');
    expect(encodeWindow(c.window, c.limits).sizes).toBeUndefined();
    expectRoundTrip(c);
  });

  it('stores the sizes the current per-message limit cannot reproduce after a limits change', () => {
    const c = conversation(limits({ maxCharactersPerMessage: 20 }));
    const cut = c.text('x'.repeat(50));
    const whole = c.text('w'.repeat(18));
    c.changeLimits(limits({ maxCharactersPerMessage: 15 }));
    c.text('z'.repeat(15));
    expect(encodeWindow(c.window, c.limits).sizes).toEqual({ [cut]: 20, [whole]: 18 });
    expectRoundTrip(c);
    c.changeLimits(limits({ maxCharactersPerMessage: 100 }));
    expect(encodeWindow(c.window, c.limits).sizes).toEqual({ [cut]: 20 });
    expectRoundTrip(c);
  });

  it('stores the size of a cut whose kept part ends in a lone high surrogate, which cutting at the new limit would drop', () => {
    const c = conversation(limits({ maxCharactersPerMessage: 20 }));
    const id = c.text(`${'a'.repeat(6)}\uD83D\uD83D${'b'.repeat(30)}`);
    expect(c.window.messages[0]?.content).toBe(`${'a'.repeat(6)}\uD83D${TRUNCATION_MARKER}`);
    c.changeLimits(limits({ maxCharactersPerMessage: 19 }));
    expect(encodeWindow(c.window, c.limits).sizes).toEqual({ [id]: 19 });
    expectRoundTrip(c);
  });

  it('rebuilds without a member whose history row is missing, its characters no longer counted', () => {
    const c = conversation(limits({}));
    c.text('kept');
    const lost = c.text('lost');
    c.media('job-1');
    c.rows.delete(lost);
    const { window, missing } = roundTrip(c);
    expect(missing).toEqual([lost]);
    expect(window.messages.map((m) => m.id)).toEqual([1, 3]);
    expect(window.totalChars).toBe(c.window.totalChars - 'lost'.length);
    expect(window.nextId).toBe(c.window.nextId);
  });
});

// Text that exercises cutting: surrogate pairs, lone surrogates and the marker inside and at the end.
const content = fc.array(fc.constantFrom('a', 'bc', '😀', '\uD83D', '\uDE00', TRUNCATION_MARKER), { maxLength: 40 }).map((parts) => parts.join(''));
const perMessage = fc.integer({ min: TRUNCATION_MARKER.length + 1, max: 70 });

describe('cutting content again from history', () => {
  it('gives back exactly what truncateContent made, from the cut length alone', () => {
    fc.assert(fc.property(content, perMessage, (whole, limit) => {
      const cut = truncateContent(whole, limit);
      expect(cutToSize(whole, cut.length)).toBe(cut);
    }), { numRuns: 2000 });
  });
});

type Command =
  | { op: 'text'; content: string; elapsed: number }
  | { op: 'media' }
  | { op: 'finalize'; pick: number; content: string }
  | { op: 'reopen'; pick: number }
  | { op: 'evict'; elapsed: number }
  | { op: 'pop' }
  | { op: 'limits'; limits: QueueLimits };

const elapsed = fc.integer({ min: 0, max: DAY_MS });
const limitsArb: fc.Arbitrary<QueueLimits> = fc.record({
  maxMessages: fc.integer({ min: 1, max: 6 }),
  maxCharacters: fc.integer({ min: 1, max: 200 }),
  maxAgeDays: fc.integer({ min: 1, max: 2 }),
  maxCharactersPerMessage: perMessage,
});
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('text' as const), content, elapsed }),
  fc.constant({ op: 'media' as const }),
  fc.record({ op: fc.constant('finalize' as const), pick: fc.nat(), content }),
  fc.record({ op: fc.constant('reopen' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('evict' as const), elapsed }),
  fc.constant({ op: 'pop' as const }),
  fc.record({ op: fc.constant('limits' as const), limits: limitsArb }),
);

function run(c: Conversation, commands: readonly Command[]): void {
  let jobs = 0;
  for (const cmd of commands) {
    if (cmd.op === 'text') c.text(cmd.content, cmd.elapsed);
    else if (cmd.op === 'media') c.media(`job-${++jobs}`);
    else if (cmd.op === 'evict') c.evict(cmd.elapsed);
    else if (cmd.op === 'pop') c.pop();
    else if (cmd.op === 'limits') c.changeLimits(cmd.limits);
    else {
      const candidates = c.window.messages.filter((m) => (cmd.op === 'finalize' ? isPlaceholder(m) : !isPlaceholder(m)));
      const target = candidates[cmd.pick % Math.max(1, candidates.length)];
      if (target === undefined) continue;
      if (cmd.op === 'finalize') c.finalize(target.mediaJobId!, cmd.content);
      else c.reopen(target.id, `job-${++jobs}`, '[Voice message] (processing)');
    }
    expectRoundTrip(c);
  }
}

describe('stored window properties', () => {
  it('rebuilds the very window it was encoded from, over any sequence of operations and limit changes', () => {
    fc.assert(fc.property(limitsArb, fc.array(command, { maxLength: 40 }), (initial, commands) => run(conversation(initial), commands)), { numRuns: 500 });
  });
});
