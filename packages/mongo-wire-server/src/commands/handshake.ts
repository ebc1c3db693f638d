import os from 'node:os';
import type { Doc } from '../bson-values.ts';
import type { CommandContext, CommandHandler } from './context.ts';

const VERSION = '7.0.0';

function helloReply(ctx: CommandContext, legacy: boolean): Doc {
  // Standalone topology with no topologyVersion: drivers poll instead of streaming heartbeats.
  return {
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    helloOk: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

const buildInfo: CommandHandler = () => ({
  version: VERSION,
  gitVersion: 'parley-wire-server',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: 16 * 1024 * 1024,
  storageEngines: ['memory'],
  javascriptEngine: 'none',
  modules: [],
  openssl: { running: 'disabled' },
  parleyWireServer: true,
  ok: 1,
});

const getParameter: CommandHandler = (cmd) => {
  const known: Doc = { featureCompatibilityVersion: { version: '7.0' }, authenticationMechanisms: [] };
  const reply: Doc = {};
  const all = cmd.getParameter === '*' || (typeof cmd.getParameter === 'object' && cmd.getParameter !== null);
  for (const [k, v] of Object.entries(known)) if (all || k in cmd) reply[k] = v;
  return { ...reply, ok: 1 };
};

const serverStatus: CommandHandler = (_cmd, ctx) => {
  const uptimeMillis = Date.now() - ctx.server.startedAt;
  return {
    host: `${os.hostname()}:${ctx.server.port}`,
    version: VERSION,
    process: 'mongod',
    pid: process.pid,
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis,
    localTime: new Date(),
    connections: { current: ctx.server.connections(), available: 1_000_000 },
    storageEngine: { name: 'memory' },
    ok: 1,
  };
};

const hostInfo: CommandHandler = () => ({
  system: {
    currentTime: new Date(),
    hostname: os.hostname(),
    cpuAddrSize: 64,
    memSizeMB: Math.round(os.totalmem() / 1024 / 1024),
    numCores: os.cpus().length,
    cpuArch: os.arch(),
  },
  os: { type: os.type(), name: os.platform(), version: os.release() },
  extra: {},
  ok: 1,
});

/** Handshake, diagnostics and session bookkeeping commands. */
export const HANDSHAKE_COMMANDS: Record<string, CommandHandler> = {
  hello: (_cmd, ctx) => helloReply(ctx, false),
  isMaster: (_cmd, ctx) => helloReply(ctx, true),
  ismaster: (_cmd, ctx) => helloReply(ctx, true),
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  endSessions: () => ({ ok: 1 }),
  getParameter,
  serverStatus,
  hostInfo,
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['parley-wire-server'], parsed: {}, ok: 1 }),
  getLog: (cmd) => (cmd.getLog === '*' ? { names: ['startupWarnings'], ok: 1 } : { totalLinesWritten: 0, log: [], ok: 1 }),
};
