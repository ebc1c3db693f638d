import { describe, expect, it } from 'vitest';
import { TRUNCATION_MARKER } from '../../../src/domain/queue-limits.ts';
import { emptyWindow, isPlaceholder, restoreWindow } from '../../../src/domain/queue-message.ts';
import type { PlaceholderMessage, QueueWindow } from '../../../src/domain/queue-message.ts';
import { addMediaPlaceholder, addText, finalizeMedia, findByProviderMessageId, injectPlaceholder, popReady } from '../../../src/domain/queue-window.ts';
import { expectConsistent, limits, media, roomyLimits, T0, text } from './queue-fixtures.ts';

function withTexts(window: QueueWindow, ...contents: string[]): QueueWindow {
  return contents.reduce((w, c, i) => addText(w, roomyLimits, text(c), T0 + i).window, window);
}

describe('adding messages', () => {
  it('accepts a text message with the next id and asks to notify listeners', () => {
    const result = addText(emptyWindow(), roomyLimits, text('hello', 'wa-1'), T0);
    expect(result.notify).toBe(true);
    expect(result.message).toMatchObject({ id: 1, content: 'hello', size: 5, acceptedAt: T0, mediaJobId: null, providerMessageId: 'wa-1' });
    expect(result.window).toMatchObject({ totalChars: 5, nextId: 2 });
    expect(result.evicted).toEqual([]);
  });

  it('accepts media as a placeholder that does not notify', () => {
    const result = addMediaPlaceholder(emptyWindow(), roomyLimits, media('job-1', { caption: 'look' }), T0);
    expect(result.notify).toBe(false);
    expect(isPlaceholder(result.message)).toBe(true);
    expect(result.message.mediaJobId).toBe('job-1');
    expect(result.message.content).toBe('[Voice message] (processing)\nCaption: look');
    expectConsistent(result.window);
  });

  it('truncates content over maxCharactersPerMessage with a visible marker and counts the cut size', () => {
    const result = addText(emptyWindow(), limits({ maxCharactersPerMessage: 20 }), text('x'.repeat(50)), T0);
    expect(result.message.content).toBe('x'.repeat(20 - TRUNCATION_MARKER.length) + TRUNCATION_MARKER);
    expect(result.message.size).toBe(20);
    expect(result.window.totalChars).toBe(20);
  });

  it('finds a message by its provider id so a replay can be recognised', () => {
    const window = addText(emptyWindow(), roomyLimits, text('hi', 'wa-9'), T0).window;
    expect(findByProviderMessageId(window, 'wa-9')?.id).toBe(1);
    expect(findByProviderMessageId(window, 'wa-10')).toBeUndefined();
  });
});

describe('finalizing media', () => {
  it('updates content, size and totalChars together and clears the job id', () => {
    const start = withTexts(emptyWindow(), 'abc');
    const placed = addMediaPlaceholder(start, roomyLimits, media('job-1'), T0 + 10).window;
    const done = finalizeMedia(placed, roomyLimits, 'job-1', '[Voice message] a long transcript', T0 + 20);
    expect(done.found).toBe(true);
    if (!done.found) return;
    expect(done.notify).toBe(true);
    expect(done.message).toMatchObject({ id: 2, content: '[Voice message] a long transcript', size: 33, mediaJobId: null });
    expect(done.window.totalChars).toBe(3 + 33);
    expectConsistent(done.window);
  });

  it('returns not-found the second time, so listeners are notified once', () => {
    const placed = addMediaPlaceholder(emptyWindow(), roomyLimits, media('job-1'), T0).window;
    const first = finalizeMedia(placed, roomyLimits, 'job-1', 'done', T0);
    const second = finalizeMedia(first.window, roomyLimits, 'job-1', 'done again', T0);
    expect(first.notify).toBe(true);
    expect(second).toEqual({ found: false, window: first.window, notify: false });
  });

  it('truncates finalized content to the per-message cap', () => {
    const placed = addMediaPlaceholder(emptyWindow(), limits({ maxCharactersPerMessage: 30 }), media('job-1'), T0).window;
    const done = finalizeMedia(placed, limits({ maxCharactersPerMessage: 30 }), 'job-1', 'y'.repeat(100), T0);
    expect(done.found && done.message.size).toBe(30);
    expect(done.found && done.message.content.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('keeps the finalized message even when its growth pushes the window over the character limit', () => {
    const tight = limits({ maxCharacters: 40 });
    let window = addText(emptyWindow(), tight, text('0123456789'), T0).window;
    window = addMediaPlaceholder(window, tight, media('job-1'), T0).window;
    const done = finalizeMedia(window, tight, 'job-1', 'z'.repeat(35), T0);
    expect(done.found && done.message.id).toBe(2);
    expect(done.found && done.evicted.map((e) => [e.message.id, e.reason])).toEqual([[1, 'characters']]);
    expect(done.window.messages.map((m) => m.id)).toEqual([2]);
  });
});

describe('recovery injection (I7)', () => {
  const recovered = (id: number, mediaJobId: string): PlaceholderMessage => ({
    id,
    content: '[Image] (processing)',
    sender: { id: 'a', displayName: null },
    source: 'user',
    acceptedAt: T0,
    size: 999,
    originatingAt: null,
    group: null,
    providerMessageId: null,
    mediaJobId,
  });

  it('keeps nextId above every injected placeholder id', () => {
    let window = withTexts(emptyWindow(), 'a', 'b');
    window = injectPlaceholder(window, roomyLimits, recovered(40, 'j40')).window;
    window = injectPlaceholder(window, roomyLimits, recovered(7, 'j7')).window;
    expect(window.nextId).toBe(41);
    const next = addText(window, roomyLimits, text('after recovery'), T0);
    expect(next.message.id).toBe(41);
    expect(next.window.messages.map((m) => m.id)).toEqual([1, 2, 7, 40, 41]);
    expectConsistent(next.window);
  });

  it('recomputes the size instead of trusting the recovered one', () => {
    const window = injectPlaceholder(emptyWindow(), roomyLimits, recovered(3, 'j3')).window;
    expect(window.messages[0]?.size).toBe('[Image] (processing)'.length);
    expect(window.totalChars).toBe('[Image] (processing)'.length);
  });

  it('replaces a message with the same id in place, keeping totalChars exact', () => {
    const window = withTexts(emptyWindow(), 'first', 'second message', 'third');
    const result = injectPlaceholder(window, roomyLimits, recovered(2, 'j2'));
    expect(result.replaced).toBe(true);
    expect(result.window.messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(result.window.messages[1]?.mediaJobId).toBe('j2');
    expectConsistent(result.window);
  });

  it('restores a window from recovered rows with nextId above both the floor and every id', () => {
    const rows = [recovered(9, 'j9'), { ...recovered(4, 'x'), mediaJobId: null, content: 'text' }];
    const window = restoreWindow(rows, 5);
    expect(window.messages.map((m) => m.id)).toEqual([4, 9]);
    expect(window.nextId).toBe(10);
    expectConsistent(window);
    expect(restoreWindow([], 12).nextId).toBe(12);
  });
});

describe('pop-ready', () => {
  it('skips placeholders and pops the oldest final message', () => {
    let window = addMediaPlaceholder(emptyWindow(), roomyLimits, media('job-1'), T0).window;
    window = withTexts(window, 'ready');
    const popped = popReady(window);
    expect(popped.message?.content).toBe('ready');
    expect(popped.skippedPlaceholders).toBe(1);
    expect(popped.window.messages.map((m) => m.mediaJobId)).toEqual(['job-1']);
    expectConsistent(popped.window);
  });

  it('returns nothing when only placeholders remain', () => {
    const window = addMediaPlaceholder(emptyWindow(), roomyLimits, media('job-1'), T0).window;
    const popped = popReady(window);
    expect(popped.message).toBeNull();
    expect(popped.window).toBe(window);
  });
});
