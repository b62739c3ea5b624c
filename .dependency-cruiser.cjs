/**
 * The shape of the tree, checked by `npm run lint` (dependency-cruiser over src/, simulator/ and
 * demo/): no import cycles, type-only imports included, and the layers point one way.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle (type-only imports count) ties two modules into one.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'The planner and its types import only core/ and lib/: no I/O.',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/(core|lib)/' },
    },
    {
      name: 'sql-is-a-leaf',
      severity: 'error',
      comment: 'Queries know nothing of webhooks, metrics or the sync engine that calls them.',
      from: { path: '^src/sql/' },
      to: { path: '^src/(webhooks/|sync/|metrics\\.ts)' },
    },
    {
      name: 'console-through-ops',
      severity: 'error',
      comment:
        'The console reads and acts through src/ops/, as the CLI does, so the two share one ' +
        'function per read and per change and cannot drift apart; it never queries src/sql/ itself.',
      from: { path: '^src/console/' },
      to: { path: '^src/sql/' },
    },
    {
      name: 'product-apart-from-tools',
      severity: 'error',
      comment:
        'The shipped product (src/, all that dist/ holds) never imports the simulator or the demo.',
      from: { path: '^src/' },
      to: { path: '^(simulator|demo)/' },
    },
    {
      name: 'simulator-stands-alone',
      severity: 'error',
      comment:
        'The simulator is built and shipped on its own: of the product it takes only the pure ' +
        'vocabulary (core/types.ts), the clock and durations, and nothing of the demo.',
      from: { path: '^simulator/' },
      to: {
        path: '^(src|demo)/',
        pathNot: '^src/(core/types|lib/(clock|duration))[.]ts$',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
