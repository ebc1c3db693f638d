/** Layering rules: pure cores import no I/O; HTTP never reaches the driver; adapters sit behind ports. */
module.exports = {
  forbidden: [
    {
      name: 'machines-are-pure',
      comment: 'machines/ imports only xstate and src/domain types.',
      severity: 'error',
      from: { path: '^machines/' },
      to: { pathNot: ['^machines/', '^src/domain/', '^node_modules/xstate/', '^node_modules/@xstate/'] },
    },
    {
      name: 'domain-is-pure',
      comment: 'src/domain holds pure types and algorithms: no Node built-ins, no packages, no other layer.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/'] },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'src/ports depends only on the domain.',
      severity: 'error',
      from: { path: '^src/ports/' },
      to: { pathNot: ['^src/ports/', '^src/domain/'] },
    },
    {
      name: 'http-never-touches-the-driver',
      comment: 'Routes talk to ports and the runtime; MongoDB stays inside src/adapters/mongodb.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: ['^node_modules/mongodb/', '^node_modules/bson/', '^src/adapters/', '^packages/mongo-wire-server/'] },
    },
    {
      name: 'core-does-not-know-adapters',
      comment: 'Only the composition root wires adapters in.',
      severity: 'error',
      from: { path: '^(src/runtime|src/domain|src/ports|machines)/' },
      to: { path: ['^src/adapters/', '^packages/mongo-wire-server/', '^node_modules/mongodb/'] },
    },
    {
      name: 'driver-only-in-mongodb-adapter',
      comment: 'The official driver is used only by the MongoDB adapter.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/adapters/mongodb/'] },
      to: { path: '^node_modules/mongodb/' },
    },
    {
      name: 'wire-server-is-standalone',
      comment: 'The bundled server depends on bson, mingo and Node built-ins only.',
      severity: 'error',
      from: { path: '^packages/mongo-wire-server/src/' },
      to: { dependencyTypesNot: ['core'], pathNot: ['^packages/mongo-wire-server/src/', '(^|/)node_modules/(bson|mingo)/'] },
    },
    {
      name: 'development-stores-only-in-store-selection',
      comment: 'The embedded stores are development dependencies, absent from production installs; only store selection may reach for them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/adapters/mongodb/store-selection\\.ts$' },
      to: {
        path: ['^packages/mongo-wire-server/', '(^|/)node_modules/@parley/mongo-wire-server/', '(^|/)node_modules/(mingo|mongodb-memory-server-core)/'],
      },
    },
    {
      name: 'development-stores-load-on-demand',
      comment: 'Store selection imports an embedded store only once it needs it, so a production install without them still starts on MONGODB_URI.',
      severity: 'error',
      from: { path: '^src/adapters/mongodb/store-selection\\.ts$' },
      to: {
        path: ['^packages/mongo-wire-server/', '(^|/)node_modules/@parley/mongo-wire-server/', '(^|/)node_modules/mongodb-memory-server-core/'],
        dependencyTypesNot: ['dynamic-import'],
      },
    },
    {
      name: 'control-plane-dto-is-schema-only',
      comment: 'src/control-plane holds the REST DTOs, shared by src/http and the runtime: TypeBox schemas over domain and port types, nothing else.',
      severity: 'error',
      from: { path: '^src/control-plane/' },
      to: { pathNot: ['^src/control-plane/', '^src/domain/', '^src/ports/', '^node_modules/@sinclair/typebox/'] },
    },
    {
      name: 'nobody-imports-main',
      severity: 'error',
      from: {},
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
