import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { EvictedMessage } from '../../../src/domain/queue-eviction.ts';
import { emptyWindow, isPlaceholder } from '../../../src/domain/queue-message.ts';
import type { QueueLimits, QueueWindow } from '../../../src/domain/queue-message.ts';
import { addMediaPlaceholder, addText, finalizeMedia, popReady } from '../../../src/domain/queue-window.ts';
import { enforceLimits } from '../../../src/domain/queue-eviction.ts';
import { DAY_MS, expectConsistent, media, T0, text } from './queue-fixtures.ts';

type Command =
  | { op: 'text'; length: number; elapsed: number }
  | { op: 'media'; caption: boolean; elapsed: number }
  | { op: 'finalize'; pick: number; length: number; elapsed: number }
  | { op: 'evict'; elapsed: number }
  | { op: 'pop' };

const elapsed = fc.integer({ min: 0, max: 2 * DAY_MS });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('text' as const), length: fc.integer({ min: 0, max: 60 }), elapsed }),
  fc.record({ op: fc.constant('media' as const), caption: fc.boolean(), elapsed }),
  fc.record({ op: fc.constant('finalize' as const), pick: fc.nat(), length: fc.integer({ min: 0, max: 80 }), elapsed }),
  fc.record({ op: fc.constant('evict' as const), elapsed }),
  fc.constant({ op: 'pop' as const }),
);
const limitsArb: fc.Arbitrary<QueueLimits> = fc.record({
  maxMessages: fc.integer({ min: 1, max: 6 }),
  maxCharacters: fc.integer({ min: 1, max: 150 }),
  maxAgeDays: fc.integer({ min: 1, max: 3 }),
  maxCharactersPerMessage: fc.integer({ min: 13, max: 50 }),
});

/** Replays a command sequence, checking I1, I2, I3 and id order after every step. */
function run(limits: QueueLimits, commands: readonly Command[]): void {
  let window: QueueWindow = emptyWindow();
  let now = T0;
  let lastId = 0;
  const jobs: string[] = [];
  const notified: Record<number, number> = {};
  const textIds: number[] = [];
  const finalizedIds: number[] = [];
  const placeholderIds: Record<string, number> = {};

  const fail = (message: string) => {
    throw new Error(`${message}\nwindow: ${JSON.stringify(window)}`);
  };
  const notify = (id: number) => {
    notified[id] = (notified[id] ?? 0) + 1;
  };
  const noPlaceholderIn = (evicted: readonly EvictedMessage[]) => {
    if (evicted.some((e) => isPlaceholder(e.message))) fail('I1: a placeholder was evicted');
  };
  const assignedId = (id: number) => {
    if (id <= lastId) fail(`ids must increase: ${id} after ${lastId}`);
    lastId = id;
  };

  for (const cmd of commands) {
    if ('elapsed' in cmd) now += cmd.elapsed;
    if (cmd.op === 'text') {
      const r = addText(window, limits, text('t'.repeat(cmd.length)), now);
      assignedId(r.message.id);
      if (r.notify) notify(r.message.id);
      textIds.push(r.message.id);
      noPlaceholderIn(r.evicted);
      window = r.window;
    } else if (cmd.op === 'media') {
      const jobId = `job-${jobs.length + 1}`;
      const r = addMediaPlaceholder(window, limits, media(jobId, { caption: cmd.caption ? 'a caption' : null }), now);
      assignedId(r.message.id);
      if (r.notify) fail('I3: a placeholder notified listeners');
      jobs.push(jobId);
      placeholderIds[jobId] = r.message.id;
      noPlaceholderIn(r.evicted);
      window = r.window;
    } else if (cmd.op === 'finalize' && jobs.length > 0) {
      const jobId = jobs[cmd.pick % jobs.length]!;
      const r = finalizeMedia(window, limits, jobId, 'm'.repeat(cmd.length), now);
      if (r.found) {
        notify(r.message.id);
        finalizedIds.push(r.message.id);
        noPlaceholderIn(r.evicted);
      }
      window = r.window;
    } else if (cmd.op === 'evict') {
      const r = enforceLimits(window, limits, now);
      noPlaceholderIn(r.evicted);
      window = r.window;
    } else if (cmd.op === 'pop') {
      const r = popReady(window);
      if (r.message !== null && isPlaceholder(r.message)) fail('I1: a placeholder was popped');
      window = r.window;
    }

    expectConsistent(window);
    for (const [jobId, id] of Object.entries(placeholderIds)) {
      if (finalizedIds.includes(id)) continue;
      if (!window.messages.some((m) => m.id === id && m.mediaJobId === jobId)) fail(`I1: placeholder ${id} left the window`);
    }
    for (const [id, count] of Object.entries(notified)) if (count > 1) fail(`I3: message ${id} notified ${count} times`);
  }

  const expected = [...textIds, ...finalizedIds].sort((a, b) => a - b);
  const actual = Object.keys(notified).map(Number).sort((a, b) => a - b);
  if (JSON.stringify(expected) !== JSON.stringify(actual)) fail(`I3: notified ${actual} but expected ${expected}`);
}

describe('queue window properties', () => {
  it('keeps I1, I2, I3 and increasing ids over any sequence of operations', () => {
    fc.assert(
      fc.property(limitsArb, fc.array(command, { maxLength: 60 }), (limits, commands) => run(limits, commands)),
      { numRuns: 600 },
    );
  });
});
