import type { Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { selectDocs, type SelectStats } from '../query.ts';
import { compileSort } from '../sort.ts';
import { collectionName, docOption, intOption, type CommandHandler } from './context.ts';

const VERBOSITIES = new Set(['queryPlanner', 'executionStats', 'allPlansExecution']);

/** The selection each explainable command makes: filter, sort, skip and limit. */
function selectionOf(inner: Doc, command: string): { filter: Doc; sort: Doc | undefined; skip: number; limit: number } {
  switch (command) {
    case 'find':
      return { filter: docOption(inner, 'filter') ?? {}, sort: docOption(inner, 'sort'), skip: intOption(inner, 'skip', 0), limit: Math.abs(intOption(inner, 'limit', 0)) };
    case 'count':
      return { filter: docOption(inner, 'query') ?? {}, sort: undefined, skip: intOption(inner, 'skip', 0), limit: Math.abs(intOption(inner, 'limit', 0)) };
    case 'distinct':
      return { filter: docOption(inner, 'query') ?? {}, sort: undefined, skip: 0, limit: 0 };
    default:
      return fail('NotImplemented', `explain of ${command} is not supported by this server; it explains find, count and distinct`);
  }
}

/**
 * explain for the read commands that select documents: which access path the selection takes (a
 * collection scan, the `_id` index, or a secondary index's lookup) and, unless only the plan is
 * asked for, how many index entries and documents it examined. Reads are cheap and side-effect
 * free, so the plan is always found by running the selection.
 */
const explain: CommandHandler = (cmd, ctx) => {
  const inner = docOption(cmd, 'explain') ?? fail('FailedToParse', "BSON field 'explain.explain' is missing but a required field");
  const verbosity = cmd.verbosity ?? 'allPlansExecution';
  if (typeof verbosity !== 'string' || !VERBOSITIES.has(verbosity)) fail('BadValue', `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`);
  const command = Object.keys(inner)[0] ?? '';
  const name = collectionName(inner, command);
  const { filter, sort, skip, limit } = selectionOf(inner, command);
  const stats: SelectStats = { plan: { stage: 'EOF' }, keysExamined: 0, docsExamined: 0 };
  const started = performance.now();
  const docs = selectDocs(ctx.store.get(ctx.db, name), filter, { sort: compileSort(sort), skip, limit, stats });
  const executionStats = {
    executionSuccess: true,
    nReturned: docs.length,
    executionTimeMillis: Math.round(performance.now() - started),
    totalKeysExamined: stats.keysExamined,
    totalDocsExamined: stats.docsExamined,
  };
  return {
    explainVersion: '1',
    queryPlanner: { namespace: `${ctx.db}.${name}`, parsedQuery: filter, winningPlan: stats.plan, rejectedPlans: [] },
    ...(verbosity === 'queryPlanner' ? {} : { executionStats }),
    command: { ...inner, $db: ctx.db },
    ok: 1,
  };
};

/** explain of find, count and distinct. */
export const EXPLAIN_COMMANDS: Record<string, CommandHandler> = { explain };
