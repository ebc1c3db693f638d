import { existsSync, readFileSync } from 'node:fs';
import type { AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  ARCHITECTURE_DOC,
  END_MARKER,
  MACHINES,
  renderDiagramBlock,
  renderStateDiagram,
  replaceDiagramBlock,
  START_MARKER,
} from '../../../scripts/machine-diagrams.ts';

const allStates = (node: AnyStateNode): AnyStateNode[] => Object.values(node.states).flatMap((child) => [child, ...allStates(child)]);
const eventTypes = (node: AnyStateNode): string[] => [node, ...allStates(node)].flatMap((n) => [...n.transitions.keys()]);

describe('machine diagrams', () => {
  describe.each(MACHINES)('$name', ({ machine }) => {
    const diagram = renderStateDiagram(machine);

    it('names every state of the machine', () => {
      for (const state of allStates(machine.root)) {
        expect(diagram.includes(`state "${state.key}" as `) || diagram.includes(`state ${state.key} {`), state.id).toBe(true);
      }
    });

    it('labels a transition with every event the machine handles', () => {
      for (const type of eventTypes(machine.root)) expect(diagram, type).toMatch(new RegExp(`(: |\\n    )${type.replace(/\./g, '\\.')}\\b`));
    });
  });

  it('replaces only the generated block and appends one to a document without markers', () => {
    const block = `${START_MARKER}\nnew\n${END_MARKER}`;
    expect(replaceDiagramBlock(`# A\n\nintro\n${START_MARKER}\nold\n${END_MARKER}\n\nafter\n`, block)).toBe(`# A\n\nintro\n${block}\n\nafter\n`);
    expect(replaceDiagramBlock('# A\n', block)).toBe(`# A\n\n${block}\n`);
  });

  it('is current in docs/architecture.md (run `node scripts/machine-diagrams.ts` after changing a machine)', () => {
    if (!existsSync(ARCHITECTURE_DOC)) return;
    const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');
    expect(replaceDiagramBlock(doc, renderDiagramBlock())).toBe(doc);
  });
});
