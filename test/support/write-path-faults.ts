import { expect } from 'vitest';
import type { Store } from '../../src/ports/store.port.ts';
import { faultyStore } from './faulty-store.ts';
import { crashingPathStore, describePoint, pointsOf, writeKey } from './reply-harness.ts';
import type { WritePoint } from './reply-harness.ts';
import { eventually } from './runtime-harness.ts';
import type { Harness } from './runtime-harness.ts';
import { openTestStore } from './test-store.ts';

/** A provider delivers again until the message is acknowledged, as WhatsApp does. */
export async function deliverUntilAcked(send: () => Promise<void>, tries = 3): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= tries) throw err;
    }
  }
}

/**
 * One write path under test: how a runtime starts, what comes before the path (a connected bot,
 * earlier messages), the path itself (one provider delivery) and what must hold once it converged.
 * A fresh scenario is made for every run, so its fakes (a scripted model) start clean.
 */
export interface WritePathScenario<C> {
  start(store: Store): Promise<Harness>;
  before(h: Harness, store: Store): Promise<C>;
  act(h: Harness, context: C): Promise<void>;
  /** Waits until a restarted runtime brought back what `before` set up (the bot connected). */
  restored(h: Harness, context: C): Promise<void>;
  verify(h: Harness, store: Store, context: C): Promise<void>;
}

/** The writes the path makes, recorded once on a clean run (which must itself verify). */
export async function writesOfPath<C>(prefix: string, scenario: () => WritePathScenario<C>): Promise<WritePoint[]> {
  const t = await openTestStore(prefix);
  const recording = crashingPathStore(t.store);
  const s = scenario();
  const h = await s.start(recording.store);
  try {
    const context = await s.before(h, t.store);
    const from = recording.trace.length;
    await s.act(h, context);
    await h.runtime.conversations.flush();
    await s.verify(h, t.store, context);
    return pointsOf(recording.trace.slice(from));
  } finally {
    await h.runtime.shutdown();
    await t.dispose();
  }
}

/**
 * The process dies right before each write of the path in turn; a second process on the same
 * store, given the delivery again when the first never acknowledged it, must converge.
 */
export async function crashBeforeEachWrite<C>(prefix: string, path: readonly WritePoint[], scenario: () => WritePathScenario<C>): Promise<void> {
  for (const point of path) {
    const t = await openTestStore(prefix);
    const crashing = crashingPathStore(t.store);
    const s = scenario();
    const first = await s.start(crashing.store);
    try {
      const context = await s.before(first, t.store);
      crashing.armBefore(point);
      // A dead process never answers: a write it keeps retrying leaves the provider waiting.
      const acked = await Promise.race([
        s.act(first, context).then(() => true, () => false),
        eventually(async () => crashing.isDead(), Boolean).then(() => new Promise<boolean>((r) => setTimeout(() => r(false), 200))),
      ]);
      // The window's write follows the acknowledgement (it is rebuilt from history on restore).
      await eventually(async () => crashing.isDead(), Boolean, 2_000).catch(() => undefined);
      expect(crashing.isDead(), `${describePoint(point)} was reached`).toBe(true);
      first.runtime.halt();
      const second = await s.start(t.store);
      try {
        await s.restored(second, context);
        if (!acked) await deliverUntilAcked(() => s.act(second, context));
        await s.verify(second, t.store, context);
      } finally {
        await second.runtime.shutdown();
      }
    } finally {
      first.runtime.halt();
      await t.dispose();
    }
  }
}

/** One transient failure of each write of the path, before the store and after a landed write. */
export async function faultEachWrite<C>(prefix: string, path: readonly WritePoint[], scenario: () => WritePathScenario<C>): Promise<void> {
  for (const point of path) {
    for (const at of ['before', 'after'] as const) {
      const t = await openTestStore(prefix);
      const faulty = faultyStore(t.store);
      const s = scenario();
      const h = await s.start(faulty.store);
      try {
        const context = await s.before(h, t.store);
        const [label = ''] = point.key.split('[');
        let seen = 0;
        const plan = at === 'before' ? faulty.failOnce : faulty.landThenFail;
        const fault = plan(label, (args) => writeKey(label, args) === point.key && ++seen === point.occurrence);
        await deliverUntilAcked(() => s.act(h, context));
        await h.runtime.conversations.flush();
        await s.verify(h, t.store, context);
        expect(fault.fired, `${describePoint(point)} (${at}) fired`).toBe(true);
      } finally {
        await h.runtime.shutdown();
        await t.dispose();
      }
    }
  }
}
