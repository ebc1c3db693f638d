/**
 * Mermaid state diagrams generated from the machine definitions. It lives in src/ because the
 * running service draws them on /inspect; scripts/machine-diagrams.ts writes the same text into
 * docs/architecture.md.
 */

import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { BOT_MACHINE_VERSION, botMachine } from '../../machines/bot.machine.ts';
import { CONVERSATION_REPLY_MACHINE_VERSION, conversationReplyMachine } from '../../machines/conversation-reply.machine.ts';
import { CORRESPONDENT_QUEUE_MACHINE_VERSION, correspondentQueueMachine } from '../../machines/correspondent-queue.machine.ts';
import { MEDIA_JOB_MACHINE_VERSION, mediaJobMachine } from '../../machines/media-job.machine.ts';
import { OUTBOX_DELIVERY_MACHINE_VERSION, outboxDeliveryMachine } from '../../machines/outbox-delivery.machine.ts';
import { WEBHOOK_DELIVERY_MACHINE_VERSION, webhookDeliveryMachine } from '../../machines/webhook-delivery.machine.ts';

export interface DiagramSource {
  readonly name: string;
  readonly version: number;
  readonly machine: AnyStateMachine;
}

export const MACHINES: readonly DiagramSource[] = [
  { name: 'bot', version: BOT_MACHINE_VERSION, machine: botMachine },
  { name: 'correspondent-queue', version: CORRESPONDENT_QUEUE_MACHINE_VERSION, machine: correspondentQueueMachine },
  { name: 'media-job', version: MEDIA_JOB_MACHINE_VERSION, machine: mediaJobMachine },
  { name: 'outbox-delivery', version: OUTBOX_DELIVERY_MACHINE_VERSION, machine: outboxDeliveryMachine },
  { name: 'webhook-delivery', version: WEBHOOK_DELIVERY_MACHINE_VERSION, machine: webhookDeliveryMachine },
  { name: 'conversation-reply', version: CONVERSATION_REPLY_MACHINE_VERSION, machine: conversationReplyMachine },
];

type Transition = AnyStateNode['transitions'] extends Map<string, (infer T)[]> ? T : never;

const nodeId = (node: AnyStateNode): string => node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_');

/**
 * `stateDiagram-v2` text for one machine: states (nested ones as composites), transitions and
 * entry/exit effects. A transition is drawn inside a composite only when both ends belong to it;
 * Mermaid would otherwise create a second copy of the outside state within the composite.
 */
export function renderStateDiagram(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const effects = effectNamer(machine);
  const outer: string[] = [];
  renderChildren(machine.root, '  ', lines, outer, effects);
  lines.push(...outer.map((l) => `  ${l}`));
  const everywhere = [...machine.root.transitions.values()].flat().map((t) => transitionLabel(t, effects));
  const first = Object.values(machine.root.states)[0];
  if (everywhere.length > 0 && first !== undefined) {
    lines.push(`  note right of ${nodeId(first)}`, '    In every state', ...everywhere.map((l) => `    ${l}`), '  end note');
  }
  return lines.join('\n');
}

function renderChildren(parent: AnyStateNode, indent: string, lines: string[], outer: string[], effects: Namer): void {
  const children = Object.values(parent.states);
  const initial = parent.initial?.target[0];
  if (initial !== undefined) lines.push(`${indent}[*] --> ${nodeId(initial)}`);
  for (const child of children) {
    const id = nodeId(child);
    const compound = Object.keys(child.states).length > 0;
    if (!compound || child.key !== id) lines.push(`${indent}state "${child.key}" as ${id}`);
    if (compound) {
      lines.push(`${indent}state ${id} {`);
      renderChildren(child, `${indent}  `, lines, outer, effects);
      lines.push(`${indent}}`);
    }
    const entry = child.entry.map(effects).filter((e): e is string => e !== null);
    const exit = child.exit.map(effects).filter((e): e is string => e !== null);
    if (entry.length > 0) lines.push(`${indent}${id} : entry / ${entry.join(', ')}`);
    if (exit.length > 0) lines.push(`${indent}${id} : exit / ${exit.join(', ')}`);
    if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
  }
  for (const child of children) {
    for (const t of [...child.transitions.values()].flat()) {
      for (const target of t.target ?? [child]) {
        const line = `${nodeId(child)} --> ${nodeId(target)} : ${transitionLabel(t, effects)}`;
        if (parent.parent !== undefined && target.parent === parent) lines.push(`${indent}${line}`);
        else outer.push(line);
      }
    }
  }
}

type Namer = (action: unknown) => string | null;

function transitionLabel(t: Transition, effects: Namer): string {
  const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : ((t.guard as { type?: string }).type ?? 'guard')}]`;
  const named = t.actions.map(effects).filter((e): e is string => e !== null);
  return `${t.eventType}${guard}${named.length > 0 ? ` / ${named.join(', ')}` : ''}`;
}

/** Names an action when it is an effect or a decision; context updates (`assign`) stay off the diagram. */
function effectNamer(machine: AnyStateMachine): Namer {
  const implementations = (machine.implementations.actions ?? {}) as Record<string, unknown>;
  return (action) => {
    const name = typeof action === 'string' ? action : ((action as { type?: unknown } | null)?.type ?? null);
    if (typeof name !== 'string' || name.startsWith('xstate.')) return null;
    const impl = implementations[name] as { type?: unknown } | undefined;
    return impl?.type === 'xstate.assign' ? null : name;
  };
}

/** Diagram text per machine name (`bot`, `correspondent-queue`, `media-job`), the names actor kinds use. */
export function machineDiagrams(sources: readonly DiagramSource[] = MACHINES): Record<string, string> {
  return Object.fromEntries(sources.map((s) => [s.name, renderStateDiagram(s.machine)]));
}
