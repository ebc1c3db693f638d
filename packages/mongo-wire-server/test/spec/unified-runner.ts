import { EJSON, Int32, Double } from 'bson';
import { MongoServerError, ReadPreference, type Document, type MongoClient } from 'mongodb';
import { assertSameDocuments } from './unified-match.ts';
import { assertError, assertResult, assertEvents, type CommandEvent, type ExpectedEvents } from './unified-assert.ts';
import type { ClientPool } from './client-pool.ts';
import { runEntityOperation, type Entity, type EntityKind, type Operation } from './unified-operations.ts';

/** What the store reports about itself, which `runOnRequirements` are evaluated against. */
export const SERVER = { version: '7.0.0', topology: 'single' } as const;

/** Newest schema version whose features this runner implements (those MongoDB's CRUD files and `cases/` use). */
const SCHEMA_VERSION = '1.12';

export interface RunOnRequirement {
  readonly minServerVersion?: string;
  readonly maxServerVersion?: string;
  readonly topologies?: readonly string[];
  readonly serverless?: 'require' | 'forbid' | 'allow';
  readonly auth?: boolean;
  readonly csfle?: unknown;
  readonly serverParameters?: Document;
}

interface CollectionData {
  readonly collectionName: string;
  readonly databaseName: string;
  readonly documents: Document[];
  readonly createOptions?: Document;
}

export interface SpecTest {
  readonly description: string;
  readonly runOnRequirements?: readonly RunOnRequirement[];
  readonly skipReason?: string;
  readonly operations: readonly Operation[];
  readonly expectEvents?: readonly ExpectedEvents[];
  readonly outcome?: readonly CollectionData[];
}

export interface SpecFile {
  readonly description: string;
  readonly schemaVersion: string;
  readonly runOnRequirements?: readonly RunOnRequirement[];
  readonly createEntities?: readonly Document[];
  readonly initialData?: readonly CollectionData[];
  readonly tests: readonly SpecTest[];
}

/** Plain numbers where the driver would send int32/double anyway; Long and integral doubles keep their type. */
function normalize(v: unknown): unknown {
  if (v instanceof Int32) return v.value;
  if (v instanceof Double) return Number.isInteger(v.value) ? v : v.value;
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

/** Parses a test file as Extended JSON (canonical and relaxed both accepted), keeping BSON types. */
export function parseSpecFile(text: string): SpecFile {
  const file = normalize(EJSON.parse(text, { relaxed: false })) as SpecFile;
  const [major] = file.schemaVersion.split('.');
  if (major !== SCHEMA_VERSION.split('.')[0] || compareVersions(file.schemaVersion, SCHEMA_VERSION) > 0) {
    throw new Error(`schemaVersion ${file.schemaVersion} is newer than this runner's ${SCHEMA_VERSION}`);
  }
  return file;
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function unmet(req: RunOnRequirement): string | undefined {
  if (req.minServerVersion && compareVersions(SERVER.version, req.minServerVersion) < 0) return `needs server >= ${req.minServerVersion}`;
  if (req.maxServerVersion && compareVersions(SERVER.version, req.maxServerVersion) > 0) return `needs server <= ${req.maxServerVersion}`;
  if (req.topologies && !req.topologies.includes(SERVER.topology)) return `needs topology ${req.topologies.join('/')}`;
  if (req.serverless === 'require') return 'needs serverless';
  if (req.auth === true) return 'needs authentication';
  if (req.csfle) return 'needs client-side field level encryption';
  if (req.serverParameters) return 'needs server parameters';
  return undefined;
}

/** Why none of `reqs` is satisfied by the store, or undefined when one is (or there are none). */
export function unmetRequirements(reqs: readonly RunOnRequirement[] | undefined): string | undefined {
  if (!reqs || reqs.length === 0) return undefined;
  const reasons = reqs.map(unmet);
  return reasons.includes(undefined) ? undefined : `runOnRequirements not met by ${SERVER.topology} ${SERVER.version}: ${reasons.join('; ')}`;
}

async function setUpData(internal: MongoClient, data: readonly CollectionData[] | undefined): Promise<void> {
  for (const { collectionName, databaseName, documents, createOptions } of data ?? []) {
    const db = internal.db(databaseName);
    await db.dropCollection(collectionName).catch((err: unknown) => {
      if (!(err instanceof MongoServerError && err.code === 26)) throw err;
    });
    if (createOptions || documents.length === 0) await db.createCollection(collectionName, { ...createOptions, writeConcern: { w: 'majority' } });
    if (documents.length > 0) await db.collection(collectionName).insertMany(documents, { writeConcern: { w: 'majority' } });
  }
}

interface ClientEntity {
  readonly client: MongoClient;
  readonly events: CommandEvent[];
}

function collectionOptions(raw: Document | undefined): Document {
  if (!raw?.readPreference) return raw ?? {};
  const { mode, ...rest } = raw.readPreference as Document;
  return { ...raw, readPreference: new ReadPreference(mode as never, undefined, rest) };
}

/** The entity map of one test: clients (with their observed events), databases and collections. */
class Entities {
  readonly clients = new Map<string, ClientEntity>();
  private readonly map = new Map<string, { kind: EntityKind; value: Entity }>();
  private readonly pool: ClientPool;

  constructor(pool: ClientPool) {
    this.pool = pool;
  }

  async create(specs: readonly Document[] | undefined): Promise<void> {
    for (const spec of specs ?? []) {
      const [kind, def] = Object.entries(spec)[0] as [string, Document];
      if (kind === 'client') {
        const events: CommandEvent[] = [];
        const observed = new Set((def.observeEvents as string[] | undefined) ?? []);
        const ignored = new Set(['configureFailPoint', ...((def.ignoreCommandMonitoringEvents as string[] | undefined) ?? [])]);
        const client = await this.pool.acquire(def.uriOptions as Document | undefined, (e) => {
          if (observed.has(e.type) && !ignored.has(e.event.commandName)) events.push(e);
        });
        this.clients.set(def.id as string, { client, events });
        this.map.set(def.id as string, { kind: 'client', value: client });
      } else if (kind === 'database') {
        const client = this.clients.get(def.client as string)?.client ?? fail(`unknown client ${String(def.client)}`);
        this.map.set(def.id as string, { kind: 'database', value: client.db(def.databaseName as string, def.databaseOptions as Document) });
      } else if (kind === 'collection') {
        const db = this.get(def.database as string, 'database') as ReturnType<MongoClient['db']>;
        this.map.set(def.id as string, { kind: 'collection', value: db.collection(def.collectionName as string, collectionOptions(def.collectionOptions as Document)) });
      } else {
        throw new Error(`entity type ${kind} is not supported by this runner`);
      }
    }
  }

  get(id: string, kind?: EntityKind): Entity {
    const found = this.map.get(id) ?? fail(`unknown entity ${id}`);
    if (kind && found.kind !== kind) fail(`entity ${id} is a ${found.kind}, not a ${kind}`);
    return found.value;
  }

  kindOf(id: string): EntityKind {
    return (this.map.get(id) ?? fail(`unknown entity ${id}`)).kind;
  }

  release(): void {
    for (const { client } of this.clients.values()) this.pool.release(client);
  }
}

function fail(message: string): never {
  throw new Error(message);
}

/** Operations whose result is a fully iterated cursor: each document is matched as a root-level document. */
const CURSOR_RESULTS = new Set(['find', 'aggregate', 'listIndexes']);

async function runOperation(op: Operation, entities: Entities): Promise<void> {
  if (op.object === 'testRunner') throw new Error(`special operation ${op.name} is not supported by this runner`);
  if (op.arguments && 'session' in op.arguments) throw new Error('sessions are not supported by this runner');
  let result: unknown;
  let error: unknown;
  try {
    result = await runEntityOperation(entities.kindOf(op.object), entities.get(op.object), op.name, op.arguments ?? {});
  } catch (err) {
    error = err;
  }
  if (op.ignoreResultAndError) return;
  const lookup = (name: string): unknown => entities.get(name);
  if (op.expectError) {
    assertError(op.expectError, error, lookup);
    return;
  }
  if (error !== undefined) throw error;
  if (op.expectResult !== undefined) assertResult(op.expectResult, result, lookup, CURSOR_RESULTS.has(op.name));
}

/** Runs one test of `file` with clients from `pool`, using `internal` for set-up and outcome checks. */
export async function runSpecTest(file: SpecFile, test: SpecTest, pool: ClientPool, internal: MongoClient): Promise<void> {
  await setUpData(internal, file.initialData);
  const entities = new Entities(pool);
  try {
    await entities.create(file.createEntities);
    for (const [i, op] of test.operations.entries()) {
      try {
        await runOperation(op, entities);
      } catch (err) {
        if (err instanceof Error) err.message = `operation ${i} (${op.object}.${op.name}): ${err.message}`;
        throw err;
      }
    }
    for (const expected of test.expectEvents ?? []) {
      const client = entities.clients.get(expected.client) ?? fail(`unknown client ${expected.client}`);
      assertEvents(expected, client.events);
    }
  } finally {
    entities.release();
  }
  for (const { collectionName, databaseName, documents } of test.outcome ?? []) {
    const actual = await internal.db(databaseName).collection(collectionName).find({}, { sort: { _id: 1 } }).toArray();
    assertSameDocuments(documents, actual, `outcome ${databaseName}.${collectionName}`);
  }
}

