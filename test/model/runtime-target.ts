import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot, AnyStateMachine, EventFromLogic, EventObject, StateValue } from 'xstate';
import { topLevelState } from '../../machines/state-name.ts';
import type { ActorKind, ActorRecord } from '../../src/ports/actor-snapshot-store.port.ts';
import type { Store } from '../../src/ports/store.port.ts';
import type { ActorCodec, SnapshotMigrations } from '../../src/runtime/actors/actor-codec.ts';
import type { EffectTable } from '../../src/runtime/actors/effect-table.ts';
import { createPersistedActor, restorePersistedActor } from '../../src/runtime/actors/persisted-actor.ts';
import type { ActorScope, PersistedActor, PersistedActorOptions } from '../../src/runtime/actors/persisted-actor.ts';
import type { ContextOf, Effect, MachineModel, ModelTarget, Observation } from './model-types.ts';

/** Every effect of a machine's map, each marked durable or not as the runtime's own table marks it. */
export type EffectDurability<TMap> = { readonly [K in keyof TMap]: boolean };

/** An effect table whose handlers only record what ran, for targets to compare with the machine. */
export function recordingEffects<TMap>(durability: EffectDurability<TMap>, sink: Effect[]): EffectTable<TMap, ActorScope> {
  const table = {} as Record<keyof TMap, { durable: boolean; run: (params: unknown) => void }>;
  for (const type of Object.keys(durability) as (keyof TMap & string)[]) {
    table[type] = { durable: durability[type], run: (params) => void sink.push({ type, params }) };
  }
  return table as EffectTable<TMap, ActorScope>;
}

export interface PersistedActorTargetOptions<TMap> {
  /** The machine's effects and which of them the runtime stores with their decision. */
  readonly effects: EffectDurability<TMap>;
  /** The run's store (`openTestStore()`); actors are written to `store.actors`. */
  readonly store: Store;
  readonly kind: ActorKind;
  readonly machineVersion: number;
  /**
   * After every step, stop the actor, read its record back from the store and continue from
   * `restorePersistedActor`, as a process restart would: every step crosses the database.
   */
  readonly restoreEachStep: boolean;
  /** The machine's stored form, as its runtime hosts it; snapshots are stored as they are when absent. */
  readonly codec?: ActorCodec<TMap>;
  readonly migrations?: SnapshotMigrations;
  /**
   * Brings the rest of the store to where the runtime would have it before the machine decides
   * `event` (a codec may read it on restore), given the observation before the step.
   */
  readonly prepare?: (event: EventObject, before: Observation<unknown>) => Promise<void>;
  /** Removes what `prepare` wrote once a path is done. */
  readonly cleanUp?: () => Promise<void>;
}

/**
 * Runs the machine through Parley's persistence runtime (`createPersistedActor`) on the run's
 * store. Each step's effects are the ones `send` released once the decision was durable. At
 * every step the stored record must decode to the decided snapshot and hold its top-level state and a higher
 * version, and the runtime must agree with the machine alone (`transition()`) on the next value,
 * context and effects.
 */
export function persistedActorTarget<TMachine extends AnyStateMachine, TMap>(
  model: MachineModel<TMachine>,
  options: PersistedActorTargetOptions<TMap>,
): ModelTarget<EventFromLogic<TMachine>, ContextOf<TMachine>> {
  type Context = ContextOf<TMachine>;
  const id = `${model.name}-${randomUUID()}`;
  const ran: Effect[] = [];
  const actorOptions: PersistedActorOptions<TMachine, TMap> = {
    machine: model.machine,
    machineVersion: options.machineVersion,
    store: options.store.actors,
    effects: recordingEffects(options.effects, ran),
    ...(options.codec === undefined ? {} : { codec: options.codec }),
    ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
  };
  const decode = async (stored: unknown) => (options.codec === undefined ? stored : options.codec.decode(stored));
  let actor: PersistedActor<TMachine> | undefined;
  let current: Observation<Context> | undefined;
  let version = 0;
  let lastState: unknown;

  const observe = (effects: readonly Effect[]): Observation<Context> => {
    if (actor === undefined) throw new Error('target not started');
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    return { value: snapshot.value, context: snapshot.context as Context, effects };
  };

  // The stored record must mirror what the actor decided.
  const checkRecord = async (record: ActorRecord | null, observed: Observation<Context>): Promise<ActorRecord> => {
    const stored = observed.effects.some((e) => options.effects[e.type as keyof TMap]);
    if (record === null) throw new Error(`actor ${id} is missing from the store`);
    const where = `actor ${id} (stored version ${record.version})`;
    if (record.state !== topLevelState(observed.value)) {
      throw new Error(`${where}: stored state ${JSON.stringify(record.state)}, actor is in ${JSON.stringify(observed.value)}`);
    }
    // A decision that changes nothing and stores no effect is not written; any other is, one version further.
    // Compared as data: a context decoded from the store may list its fields in another order.
    const state = { value: observed.value, context: observed.context };
    const unchanged = isDeepStrictEqual(state, lastState);
    if ((!unchanged || stored) && record.version <= version) throw new Error(`${where}: version did not increase from ${version}`);
    if (unchanged && !stored && record.version !== version) throw new Error(`${where}: an unchanged snapshot was written again`);
    // Every effect ran, so every stored one was acknowledged: nothing would run again after a restart.
    if (record.effects.length > 0) throw new Error(`${where}: effects ${record.effects.map((e) => e.type)} ran but stayed unacknowledged`);
    lastState = state;
    if (actor !== undefined && record.version !== actor.version()) throw new Error(`${where}: the actor holds version ${actor.version()}`);
    if (record.machineVersion !== options.machineVersion || record.kind !== options.kind) throw new Error(`${where}: wrong kind or machine version`);
    checkRoundTrip(where, observed, (await decode(record.snapshot)) as Observation<Context>);
    version = record.version;
    return record;
  };

  return {
    async start() {
      const botId = botIdOf(model.input);
      await options.cleanUp?.();
      actor = await createPersistedActor(actorOptions, { id, kind: options.kind, botId }, model.input as never);
      const first = observe([]);
      await checkRecord(await options.store.actors.get(id), first);
      checkInitial(model.machine, model.input, first);
      current = first;
      return first;
    },
    async send(event) {
      if (actor === undefined || current === undefined) throw new Error('target not started');
      const expected = machineStep(model.machine, current, event);
      await options.prepare?.(event, current);
      await actor.sendAndSettle(event);
      await actor.flush();
      const effects = ran.splice(0);
      let observed = observe(effects);
      if (options.restoreEachStep) {
        await actor.stop();
        const record = await checkRecord(await options.store.actors.get(id), observed);
        actor = await restorePersistedActor(actorOptions, record);
        const restored = observe(effects);
        checkRoundTrip(`actor ${id} (restored)`, observed, restored);
        observed = restored;
      } else {
        await checkRecord(await options.store.actors.get(id), observed);
      }
      checkAgreement(`${model.name} ${id}`, event, expected, observed);
      current = observed;
      return observed;
    },
    async dispose() {
      const running = actor;
      actor = undefined;
      current = undefined;
      if (running !== undefined) {
        await running.stop();
        // The collection stays small, so later paths do not pay for earlier ones.
        await options.store.actors.delete(id);
        await options.cleanUp?.();
      }
    },
  };
}

function botIdOf(input: unknown): string {
  const botId = typeof input === 'object' && input !== null && 'botId' in input ? input.botId : undefined;
  if (typeof botId !== 'string') throw new Error('the model input has no botId');
  return botId;
}

/** What the machine alone decides for `event` from an observed value and context. */
export function machineStep<TContext>(machine: AnyStateMachine, from: Observation<TContext>, event: EventObject): Observation<TContext> {
  const snapshot = machine.resolveState({ value: from.value, context: from.context });
  const [next, actions] = transition(machine, snapshot, event);
  return { value: next.value, context: next.context as TContext, effects: namedEffects(actions) };
}

/** The runtime starts without releasing effects, so the machine's initial state must not ask for any. */
export function checkInitial<TContext>(machine: AnyStateMachine, input: unknown, observed: Observation<TContext>): void {
  const [first, actions] = initialTransition(machine, input);
  checkAgreement('initial state', { type: 'xstate.init' }, { value: first.value, context: first.context as TContext, effects: namedEffects(actions) }, observed);
}

/** The runtime's step must equal the machine's: same value, same context, same effects in order. */
export function checkAgreement<TContext>(where: string, event: EventObject, expected: Observation<TContext>, actual: Observation<TContext>): void {
  const differs = (['value', 'context', 'effects'] as const).filter((key) => !isDeepStrictEqual(actual[key], expected[key]));
  if (differs.length === 0) return;
  const show = (o: Observation<TContext>) => JSON.stringify(Object.fromEntries(differs.map((key) => [key, o[key]])));
  throw new Error(`${where}: the runtime and the machine disagree on ${differs.join(', ')} after ${JSON.stringify(event)}\nmachine ${show(expected)}\nruntime ${show(actual)}`);
}

/** The value and context the actor decided must be what the store holds and what a restore brings back. */
function checkRoundTrip<TContext>(where: string, decided: Observation<TContext>, stored: Pick<Observation<TContext>, 'value' | 'context'>): void {
  const strip = (o: Pick<Observation<TContext>, 'value' | 'context'>): { value: StateValue; context: TContext } => ({ value: o.value, context: o.context });
  if (!isDeepStrictEqual(strip(decided), strip(stored))) {
    throw new Error(`${where}: the snapshot did not survive the store round trip:\ndecided ${JSON.stringify(strip(decided))}\nstored  ${JSON.stringify(strip(stored))}`);
  }
}

/** The effects among the actions `transition()` returned, as the pure target reports them. */
function namedEffects(actions: readonly { type: string; params?: unknown }[]): Effect[] {
  return actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params }));
}
