import { describe, expect, it } from 'vitest';
import { storableProblems } from '../../../src/domain/free-form.ts';

describe('free-form settings a document can store', () => {
  it('accepts plain JSON, NUL bytes in values included', () => {
    expect(storableProblems({ pools: [{ name: 'voice', kinds: ['voice'] }], note: 'a\0b' }, 'body.media')).toEqual([]);
    expect(storableProblems(undefined, 'body.media')).toEqual([]);
  });

  it('names every key MongoDB refuses and nesting past the cap', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`) as unknown;
    const problems = storableProblems({ $where: 1, 'a.b': 2, 'nul\0key': 3, '': 4, list: [{ $set: 5 }], deep }, 'body.media');
    expect(problems.map((p) => p.field)).toEqual(['body.media.$where', 'body.media.a.b', 'body.media.nul\\0key', 'body.media.', 'body.media.list[0].$set', 'body.media.deep.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a']);
    expect(problems.at(-1)?.problem).toBe('nested deeper than 16 levels');
  });
});
