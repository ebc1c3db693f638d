import { statePath, topLevelState } from '../../machines/state-name.ts';
import type { AnyStateMachine, EventFromLogic, InputFrom } from 'xstate';
import type { WorkItem, WorkQueueStore } from '../../src/ports/work-queue.port.ts';
import type { EffectTable } from '../../src/runtime/actors/effect-table.ts';
import type { RowActorHost, RowScope } from '../../src/runtime/work-queue/row-actor-host.ts';
import type { WorkItemContext } from '../../src/domain/work-item.ts';
import type { Effect } from './model-types.ts';
import type { ContextOf, MachineModel, ModelTarget, Observation } from './model-types.ts';
import { checkAgreement, checkInitial, machineStep } from './runtime-target.ts';
import type { EffectDurability } from './runtime-target.ts';

export interface RowActorTargetOptions<TMachine extends AnyStateMachine, TMap, TData, TState extends string> {
  /** The run's work queue (`openTestStore().store.mediaJobs` or `.outbox`). */
  readonly queue: WorkQueueStore<TData, TState>;
  /** The machine's effects, and which of them the host stores with their decision. */
  readonly effects: EffectDurability<TMap>;
  /** Parley's host for this machine on `queue`, running the given (recording) effects. */
  readonly host: (effects: EffectTable<TMap, RowScope<WorkItem<TData, TState>>>) => RowActorHost<TMachine, TData, TState>;
  /** The row the item is created as (its id, bot, line and data). */
  readonly row: Parameters<RowActorHost<TMachine, TData, TState>['create']>[1];
}

/**
 * Runs a work-queue machine through Parley's row-actor host on the run's store. The host keeps
 * nothing in memory: every `dispatch` loads the stored row, restores the machine from its
 * snapshot, decides, writes with compare-and-set and then runs the effects, which this target
 * records. Observations are read from the snapshot of the row the host wrote, so every step
 * crosses the database. At every step the row's query fields must mirror the snapshot, its
 * version must increase, every effect that ran must be acknowledged, and the host must agree
 * with the machine alone on value, context and effects.
 */
export function rowActorTarget<TMachine extends AnyStateMachine, TMap, TData, TState extends string>(
  model: MachineModel<TMachine>,
  options: RowActorTargetOptions<TMachine, TMap, TData, TState>,
): ModelTarget<EventFromLogic<TMachine>, ContextOf<TMachine>> {
  type Item = WorkItem<TData, TState>;
  type Context = ContextOf<TMachine> & WorkItemContext;
  const released: { record: Item; effects: readonly Effect[] }[] = [];
  const table = {} as Record<keyof TMap, { durable: boolean; run: (params: unknown, scope: RowScope<Item>) => void }>;
  for (const type of Object.keys(options.effects) as (keyof TMap & string)[]) {
    table[type] = {
      durable: options.effects[type],
      run(params, { item }) {
        const last = released.at(-1);
        if (last?.record.version === item.version) released[released.length - 1] = { record: item, effects: [...last.effects, { type, params }] };
        else released.push({ record: item, effects: [{ type, params }] });
      },
    };
  }
  const host = options.host(table as EffectTable<TMap, RowScope<Item>>);
  const jobId = options.row.id;
  let current: Observation<Context> | undefined;
  let version = 0;
  let lastState = '';
  let created = false;

  const observe = async (record: Item): Promise<Observation<Context>> => {
    // Effects that ran are acknowledged: none is left to run again after a restart.
    const stored = await options.queue.get(record.id);
    if (stored !== null && stored.effects.length > 0) throw new Error(`job ${jobId}: effects ${stored.effects.map((e) => e.type)} ran but stayed unacknowledged`);
    const runs = released.splice(0);
    for (const run of runs) {
      if (run.record.version !== record.version) throw new Error(`job ${jobId}: effects ran for version ${run.record.version}, the host returned ${record.version}`);
    }
    const { value, context } = record.snapshot as Pick<Observation<Context>, 'value' | 'context'>;
    const observed = { value, context, effects: runs.flatMap((r) => r.effects) };
    checkRow(record, observed, runs.length > 0);
    return observed;
  };

  // The row's query fields mirror the snapshot; every change bumps the version.
  const checkRow = (record: Item, { value, context: c }: Observation<Context>, ranEffects: boolean): void => {
    const where = `job ${jobId} (stored version ${record.version})`;
    const mirrored = {
      state: [record.state, topLevelState(value)],
      statePath: [record.statePath, statePath(value)],
      attempt: [record.attempt, c.attempt],
      owner: [record.owner, c.owner],
      leaseUntil: [record.leaseUntil?.getTime() ?? null, c.leaseUntil],
      error: [record.error, c.error],
      ...(c.notBefore === null ? {} : { notBefore: [record.notBefore.getTime(), c.notBefore] }),
    };
    for (const [field, [stored, snapshot]] of Object.entries(mirrored)) {
      if (stored !== snapshot) throw new Error(`${where}: stored ${field} ${JSON.stringify(stored)}, snapshot has ${JSON.stringify(snapshot)}`);
    }
    // A decision that changes nothing and stores no effect is not written; any change is, one version further.
    const state = JSON.stringify({ value, context: c });
    if (state !== lastState && record.version <= version) throw new Error(`${where}: version did not increase from ${version}`);
    if (state === lastState && record.version !== version && !ranEffects) throw new Error(`${where}: an unchanged snapshot was written again`);
    lastState = state;
    version = record.version;
  };

  return {
    async start() {
      created = true;
      const first = await observe(await host.create(model.input as InputFrom<TMachine>, options.row));
      checkInitial(model.machine, model.input, first);
      current = first;
      return first;
    },
    async send(event) {
      if (current === undefined) throw new Error('target not started');
      const expected = machineStep<Context>(model.machine, current, event);
      const observed = await observe(await host.dispatch(jobId, event));
      checkAgreement(`${model.name} ${jobId}`, event, expected, observed);
      current = observed;
      return observed;
    },
    async dispose() {
      current = undefined;
      released.length = 0;
      // Every path reuses the model's item id, so its row goes with the path.
      if (created) await options.queue.delete(jobId);
      created = false;
    },
  };
}
