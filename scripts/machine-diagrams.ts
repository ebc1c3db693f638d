/**
 * Renders every machine in machines/ as a Mermaid state diagram, straight from the machine
 * definitions, into the generated block of docs/architecture.md.
 *
 *   node scripts/machine-diagrams.ts          write the block
 *   node scripts/machine-diagrams.ts --check  exit 1 when the block is out of date
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MACHINES, renderStateDiagram } from '../src/observability/machine-diagrams.ts';
import type { DiagramSource } from '../src/observability/machine-diagrams.ts';

// The generation core lives in src/ so the running service can draw the diagrams on /inspect.
export { MACHINES, renderStateDiagram };
export type { DiagramSource };

export const START_MARKER = '<!-- machine-diagrams:start -->';
export const END_MARKER = '<!-- machine-diagrams:end -->';

/** The generated markdown: one section per machine. */
export function renderDiagramBlock(sources: readonly DiagramSource[] = MACHINES): string {
  const sections = sources.map(
    (s) => `### ${s.name} (snapshot version ${s.version})\n\n\`\`\`mermaid\n${renderStateDiagram(s.machine)}\n\`\`\``,
  );
  return [START_MARKER, '<!-- Generated from machines/ by scripts/machine-diagrams.ts; edit the machines, not this block. -->', '', ...sections.flatMap((s) => [s, '']), END_MARKER].join('\n');
}

/** Replaces the block between the markers, or appends it when the document has none. */
export function replaceDiagramBlock(markdown: string, block: string): string {
  const start = markdown.indexOf(START_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) return `${markdown.trimEnd()}\n\n${block}\n`;
  return markdown.slice(0, start) + block + markdown.slice(end + END_MARKER.length);
}

export const ARCHITECTURE_DOC = join(import.meta.dirname, '..', 'docs', 'architecture.md');

function main(argv: readonly string[]): number {
  const current = existsSync(ARCHITECTURE_DOC) ? readFileSync(ARCHITECTURE_DOC, 'utf8') : `# Architecture\n\n${START_MARKER}\n${END_MARKER}\n`;
  const updated = replaceDiagramBlock(current, renderDiagramBlock());
  if (argv.includes('--check')) {
    if (updated === current) return 0;
    console.error('docs/architecture.md: machine diagrams are out of date; run node scripts/machine-diagrams.ts');
    return 1;
  }
  if (updated !== current) writeFileSync(ARCHITECTURE_DOC, updated);
  console.log(`machine diagrams ${updated === current ? 'already current' : 'written'} in docs/architecture.md`);
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
