import { describe, expect, it } from 'vitest';
import { contactLabel, locationLabel, quoteExcerpt, reactionLabel, replyLabel, unsupportedLabel } from '../../../src/domain/message-labels.ts';

describe('how non-text messages read in a conversation', () => {
  it('quotes on one line, cut at 80 whole characters', () => {
    expect(quoteExcerpt('two\nlines  here')).toBe('two lines here');
    const long = `${'😀'.repeat(79)}ab`;
    expect(quoteExcerpt(long)).toBe(`${'😀'.repeat(79)}a…`);
    expect(replyLabel('ok')).toBe('[Reply to: "ok"]');
    expect(replyLabel(null)).toBe('[Reply to an earlier message]');
  });

  it('words locations, contacts, reactions and the unsupported alike for every provider', () => {
    expect(locationLabel(52.52, 13.405, ['Café', null, ''], 'https://maps.example')).toBe('[Location] 52.52, 13.405 — Café https://maps.example');
    expect(locationLabel(null, undefined, [], null)).toBe('[Location] 0, 0');
    expect(contactLabel('Anna', ['+49 151 1', '+49 30 2'])).toBe('[Contact] Anna: +49 151 1, +49 30 2');
    expect(contactLabel('Anna', [])).toBe('[Contact] Anna');
    expect(reactionLabel('👍')).toBe('[Reaction 👍]');
    expect(reactionLabel('')).toBe('[Reaction removed]');
    expect(unsupportedLabel('poll')).toBe('[Unsupported message: poll]');
    expect(unsupportedLabel('unknown', 'Message type unknown')).toBe('[Unsupported message: unknown] (Message type unknown)');
  });
});
