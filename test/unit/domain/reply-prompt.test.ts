import { describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_PROMPT, buildReplyTurns, splitReply, typingDuration } from '../../../src/domain/reply-prompt.ts';
import type { PromptMessage } from '../../../src/domain/reply-prompt.ts';

const inbound = (seq: number, content: string): PromptMessage => ({ seq, direction: 'inbound', content, status: 'final' });
const outbound = (seq: number, content: string, status = 'sent'): PromptMessage => ({ seq, direction: 'outbound', content, status });
const window = { systemPrompt: 'Be brief.', maxMessages: 30, maxChars: 10_000 };

describe('reply prompt', () => {
  it('puts the system prompt first, then the conversation up to the claimed seq, oldest first, by role', () => {
    const turns = buildReplyTurns([outbound(2, 'hi!'), inbound(1, 'hello'), inbound(3, '[Voice message] see you at 8'), inbound(4, 'after the claim')], 3, window);
    expect(turns).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi!' },
      { role: 'user', content: '[Voice message] see you at 8' },
    ]);
  });

  it('leaves out outgoing messages that failed for good and empty ones', () => {
    const turns = buildReplyTurns([inbound(1, 'a'), outbound(2, 'never delivered', 'failed'), inbound(3, '  ')], 3, window);
    expect(turns.map((t) => t.content)).toEqual(['Be brief.', 'a']);
  });

  it('keeps the newest messages within the message and character budgets, the newest one always', () => {
    const rows = [inbound(1, 'x'.repeat(40)), inbound(2, 'y'.repeat(40)), inbound(3, 'z'.repeat(40))];
    expect(buildReplyTurns(rows, 3, { ...window, maxMessages: 2 }).slice(1).map((t) => t.content[0])).toEqual(['y', 'z']);
    expect(buildReplyTurns(rows, 3, { ...window, maxChars: 90 }).slice(1).map((t) => t.content[0])).toEqual(['y', 'z']);
    const cut = buildReplyTurns(rows, 3, { ...window, maxChars: 10 });
    expect(cut.slice(1)).toEqual([{ role: 'user', content: 'z'.repeat(10) }]);
  });

  it('uses the built-in system prompt when the bot has none', () => {
    expect(buildReplyTurns([inbound(1, 'a')], 1, { ...window, systemPrompt: ' ' })[0]).toEqual({ role: 'system', content: DEFAULT_SYSTEM_PROMPT });
  });

  it('splits a reply at blank lines and cuts parts over the limit', () => {
    expect(splitReply('One.\n\nTwo.\n \nThree.', 100)).toEqual(['One.', 'Two.', 'Three.']);
    expect(splitReply('no blank line\nhere', 100)).toEqual(['no blank line\nhere']);
    expect(splitReply('abcdef', 4)).toEqual(['abcd', 'ef']);
  });

  it('types for a time proportional to the reply, capped', () => {
    expect(typingDuration(10, 30, 3000)).toBe(300);
    expect(typingDuration(1000, 30, 3000)).toBe(3000);
  });
});
