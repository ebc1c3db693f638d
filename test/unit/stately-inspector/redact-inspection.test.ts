import { describe, expect, it } from 'vitest';
import { createInspectionRedactor } from '../../../src/adapters/stately-inspector/redact-inspection.ts';

const SECRET = Buffer.alloc(32, 7);

describe('redaction of Stately inspection events', () => {
  it('keeps a field added later private until it is listed', () => {
    const redact = createInspectionRedactor(SECRET);
    const out = redact({ type: '@xstate.snapshot', sessionId: 'bot-1', snapshot: { status: 'active', value: 'idle', context: { botId: 'bot-1', summary: 'what the customer asked', attempts: 2, ready: true } } });
    expect(out['snapshot']).toEqual({ status: 'active', value: 'idle', context: { botId: 'bot-1', summary: '[redacted]', attempts: 2, ready: true } });
  });

  it('masks digit runs in keys, ids and state names, with one pseudonym per number whatever its prefix', () => {
    const redact = createInspectionRedactor(SECRET);
    const out = redact({
      type: '@xstate.event', sessionId: 'bot-1|+15551234567', rootId: 'bot-1|15551234567',
      event: { type: 'contacts.changed', byCorrespondent: { '15551234567@s.whatsapp.net': 1 }, from: 'alice' },
    });
    const pseudonym = (out['sessionId'] as string).slice('bot-1|'.length);
    expect(pseudonym).toMatch(/^~[A-Za-z0-9_-]{8}$/);
    expect(out['rootId']).toBe(`bot-1|${pseudonym}`);
    expect(out['event']).toEqual({ type: 'contacts.changed', byCorrespondent: { [`${pseudonym}@s.whatsapp.net`]: 1 }, from: expect.stringMatching(/^~/) });
    // Another process (another secret) gives other pseudonyms: nothing links them across restarts.
    expect(createInspectionRedactor(Buffer.alloc(32, 8))({ type: 'x', sessionId: '15551234567' })['sessionId']).not.toBe(pseudonym);
  });

  it('leaves out what the inspector does not draw, and stops at a depth bound', () => {
    const redact = createInspectionRedactor(SECRET);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    const out = redact({ type: '@xstate.snapshot', snapshot: { status: 'active', value: 'idle', context: deep, children: { x: 'private' }, historyValue: { y: 1 } }, extra: 'dropped' });
    expect(Object.keys(out['snapshot'] as object)).toEqual(['status', 'value', 'context']);
    expect(out['extra']).toBeUndefined();
    expect(JSON.stringify(out)).toContain('"[redacted]"');
    expect(JSON.stringify(out)).not.toContain('leaf');
  });
});
