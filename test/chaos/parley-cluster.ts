import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { startParleyProcess } from './parley-process.ts';
import type { ParleyEnv, ParleyProcess } from './parley-process.ts';
import type { Life, Session, StoredRow } from './cluster-invariants.ts';

/** An instance as `GET /v1/instances` lists it. */
export interface InstanceView {
  readonly id: string;
  readonly url: string | null;
  readonly startedAt: string;
  readonly seenAt: string;
  readonly aliveUntil: string;
  readonly capacity: number | null;
  readonly bots: readonly string[];
  readonly self: boolean;
}

export interface ClusterOptions {
  /** The shared store: every member gets the same MONGODB_URI and MONGODB_DB. */
  readonly env: ParleyEnv;
  /** Member ids, one process each: `p1`, `p2`, … */
  readonly ids: readonly string[];
  /** OWNERSHIP_LEASE_MS, short so a takeover fits a test. */
  readonly leaseMs: number;
  /** OWNERSHIP_TAKEOVER_DELAY_MS. */
  readonly takeoverDelayMs: number;
  /** WORK_POLL_MS. */
  readonly workPollMs?: number;
}

/**
 * Several Parley processes on one store, each with its own INSTANCE_ID, sharing MEDIA_DIR (the
 * harness gives every process of a test file the same one). It records every life of every
 * member (spawn, kill, freezes), because a killed process never writes that its sessions ended.
 */
export interface ParleyCluster {
  readonly ids: readonly string[];
  readonly leaseMs: number;
  readonly takeoverDelayMs: number;
  /** The member's running process; throws when it is down. */
  member(id: string): ParleyProcess;
  /** Ids of members that run and are not frozen: those that answer requests. */
  answering(): string[];
  /** Starts the member (again, with the same id) and waits until it listens. */
  start(id: string): Promise<ParleyProcess>;
  /** SIGKILL; resolves with the moment of the kill once the process is gone. */
  kill(id: string): Promise<number>;
  /** SIGSTOP; returns the moment it was frozen. */
  pause(id: string): number;
  /** SIGCONT; returns the moment it was woken. */
  resume(id: string): number;
  /** SIGTERM; resolves once the process exited, with when the signal was sent and when it was gone. */
  terminate(id: string): Promise<{ readonly sentAt: number; readonly exitedAt: number }>;
  /** `GET /v1/instances` as the given member (or any answering one) sees it. */
  instances(via?: string): Promise<InstanceView[]>;
  /** Every life so far, for telling when a session of a killed process ended. */
  lives(): readonly Life[];
  /** The simulator's session log of these bots, read from the store (dead members' sessions included). */
  sessions(botIds: readonly string[]): Promise<Session[]>;
  /** The ownership leases of these bots as the store holds them (a released one runs until 1970). */
  leases(botIds: readonly string[]): Promise<{ botId: string; owner: string; epoch: number; leaseUntil: number }[]>;
  /** History rows of these bots, read from the store. */
  history(botIds: readonly string[]): Promise<StoredRow[]>;
  /** Every member's output so far, labelled, for failure messages. */
  output(): string;
  /** Writes each life's whole output to `<dir>/<id>-<life>.log`, the evidence of a failed run; returns the directory. */
  saveOutput(dir: string): string;
  /** Stops every member and drops the database. */
  close(): Promise<void>;
}

interface MutableLife {
  readonly instanceId: string;
  readonly spawnedAt: number;
  endedAt: number | null;
  killed: boolean;
  frozen: { from: number; to: number | null }[];
  readonly process: ParleyProcess;
}

interface SessionDoc {
  readonly botId: string;
  readonly sessionId: string;
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly connectedAt: Date | null;
  readonly endedAt: Date | null;
  readonly endReason: string | null;
}

/** Three processes starting at once on two busy cores compile and index for a while. */
const START_TIMEOUT_MS = 90_000;

const ms = (d: Date | string | null | undefined): number | null => (d === null || d === undefined ? null : new Date(d).getTime());

export async function startCluster(options: ClusterOptions): Promise<ParleyCluster> {
  const client = await new MongoClient(options.env.MONGODB_URI).connect();
  const db = client.db(options.env.MONGODB_DB);
  const lives: MutableLife[] = [];
  const current = (id: string) => lives.findLast((l) => l.instanceId === id && l.endedAt === null);

  const cluster: ParleyCluster = {
    ids: options.ids,
    leaseMs: options.leaseMs,
    takeoverDelayMs: options.takeoverDelayMs,
    member(id) {
      const life = current(id);
      if (life === undefined) throw new Error(`${id} is not running`);
      return life.process;
    },
    answering: () => options.ids.filter((id) => {
      const life = current(id);
      return life !== undefined && life.frozen.every((f) => f.to !== null);
    }),
    async start(id) {
      if (current(id) !== undefined) throw new Error(`${id} already runs`);
      const spawnedAt = Date.now();
      const p = await startParleyProcess({
        ...options.env,
        INSTANCE_ID: id,
        OWNERSHIP_LEASE_MS: String(options.leaseMs),
        OWNERSHIP_TAKEOVER_DELAY_MS: String(options.takeoverDelayMs),
        WORK_POLL_MS: String(options.workPollMs ?? 200),
      }, { startTimeoutMs: START_TIMEOUT_MS });
      const life: MutableLife = { instanceId: id, spawnedAt, endedAt: null, killed: false, frozen: [], process: p };
      lives.push(life);
      // A process that dies on its own (a crash) ends its life too, when it is noticed.
      void p.exited.then(() => void (life.endedAt ??= Date.now()));
      return p;
    },
    async kill(id) {
      const life = current(id);
      if (life === undefined) throw new Error(`${id} is not running`);
      life.process.kill();
      // Taken after the signal: no session of this life can have run past it, so an overlap with
      // a successor is judged against the latest moment the victim could still have acted.
      const at = Date.now();
      life.endedAt = at;
      life.killed = true;
      await life.process.exited;
      return at;
    },
    pause(id) {
      const life = current(id);
      if (life === undefined) throw new Error(`${id} is not running`);
      const from = Date.now();
      life.process.pause();
      life.frozen.push({ from, to: null });
      return from;
    },
    resume(id) {
      const life = current(id);
      const frozen = life?.frozen.at(-1);
      if (life === undefined || frozen === undefined || frozen.to !== null) throw new Error(`${id} is not frozen`);
      life.process.resume();
      frozen.to = Date.now();
      return frozen.to;
    },
    async terminate(id) {
      const life = current(id);
      if (life === undefined) throw new Error(`${id} is not running`);
      const sentAt = Date.now();
      await life.process.stop();
      for (const f of life.frozen) f.to ??= sentAt;
      const exitedAt = Date.now();
      life.endedAt = exitedAt;
      return { sentAt, exitedAt };
    },
    async instances(via) {
      const id = via ?? cluster.answering()[0];
      if (id === undefined) throw new Error('no member answers');
      return (await cluster.member(id).json<{ instances: InstanceView[] }>('/v1/instances')).instances;
    },
    lives: () => lives.map(({ process: _process, ...life }) => ({ ...life, frozen: life.frozen.map((f) => ({ ...f })) })),
    async sessions(botIds) {
      const docs = await db.collection<SessionDoc>(COLLECTIONS.simulatorSessions).find({ botId: { $in: [...botIds] } }).toArray();
      return docs.map((d) => ({
        botId: d.botId, sessionId: d.sessionId, instanceId: d.instanceId, endReason: d.endReason ?? null,
        startedAt: ms(d.startedAt)!, connectedAt: ms(d.connectedAt), endedAt: ms(d.endedAt),
      }));
    },
    async leases(botIds) {
      const docs = await db.collection<{ _id: string; owner: string; epoch: number; leaseUntil: Date }>(COLLECTIONS.botLeases).find({ _id: { $in: [...botIds] } }).toArray();
      return docs.map((d) => ({ botId: d._id, owner: d.owner, epoch: d.epoch, leaseUntil: d.leaseUntil.getTime() }));
    },
    async history(botIds) {
      return db.collection<StoredRow>(COLLECTIONS.messages)
        .find({ botId: { $in: [...botIds] } }, { projection: { _id: 0, botId: 1, correspondentId: 1, seq: 1, providerMessageId: 1, direction: 1 } })
        .toArray();
    },
    output: () => lives.map((l, i) => `----- ${l.instanceId} (life ${i + 1}) -----\n${l.process.output()}`).join('\n'),
    saveOutput(dir) {
      mkdirSync(dir, { recursive: true });
      lives.forEach((l, i) => writeFileSync(path.join(dir, `${l.instanceId}-${i + 1}.log`), l.process.output()));
      return dir;
    },
    async close() {
      // A stop that hangs is a finding of its own test, not a reason to hang every later one.
      await Promise.all(lives.filter((l) => l.endedAt === null).map(async (l) => {
        const timer = setTimeout(() => l.process.kill(), 20_000);
        await cluster.terminate(l.instanceId);
        clearTimeout(timer);
      }));
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
  const started = await Promise.allSettled(options.ids.map((id) => cluster.start(id)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await cluster.close();
    throw failed.reason;
  }
  return cluster;
}
