// The module graph, checked (`npm run lint`; docs/ARCHITECTURE.md, "Who depends on whom", draws it).
// Layers, bottom up: config; common; users; sessions; then auth, redis and the features above them;
// pages on top; src/*.ts (app.module, app.setup, main, entities) wire everything. A folder imports
// only folders below it. Type-only imports count: knowing another folder's types is depending on it.

/** Everything of the app outside one folder, for "imports nothing above it" rules. */
const outside = (...folders) => `^src/(?!(?:${folders.join('|')})/)[^/]+/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- The architecture ----
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment:
        'Two feature folders import each other (through any chain of folders). Move what both need down ' +
        '(common, or the lower feature), or let the lower one declare what it needs and the higher provide it.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'This module is part of an import cycle. Cycles made only of type imports are left alone: they ' +
        'vanish at compile time and cannot leave a module half-loaded (folder cycles above count them).',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'config-knows-no-feature',
      severity: 'error',
      comment:
        'src/config/ is the bottom of the graph: the environment and the database options. Entities are ' +
        'registered by their modules (TypeOrmModule.forFeature) and migrations passed in by the callers.',
      from: { path: '^src/config/' },
      to: { path: ['^src/', '^migrations/'], pathNot: '^src/config/' },
    },
    {
      name: 'common-imports-only-config',
      severity: 'error',
      comment: 'src/common/ is shared by every feature, so it may import none of them: config only.',
      from: { path: '^src/common/' },
      to: { path: outside('common', 'config') },
    },
    {
      name: 'users-imports-nothing-above',
      severity: 'error',
      comment: 'src/users/ is the base feature: it may import common and config only.',
      from: { path: '^src/users/' },
      to: { path: outside('users', 'common', 'config') },
    },
    {
      name: 'sessions-imports-nothing-above',
      severity: 'error',
      comment: 'src/sessions/ stands on users (the Session -> User relation, credential versions), common and config.',
      from: { path: '^src/sessions/' },
      to: {
        path: outside('sessions', 'users', 'common', 'config'),
      },
    },
    {
      name: 'metrics-imports-nothing-above',
      severity: 'error',
      comment:
        'src/metrics/ (Prometheus) stands on common and config only: the features count through the Meter ' +
        'declared in common, and the scrape-time counts read tables by entity name, not by importing features.',
      from: { path: '^src/metrics/' },
      to: { path: outside('metrics', 'common', 'config') },
    },
    {
      name: 'factors-imports-nothing-above',
      severity: 'error',
      comment:
        'src/factors/ (passkeys, the authenticator app, recovery codes, pending sign-ins) stands on users, sessions, ' +
        'mail, common and config; auth imports it for the sign-in routes, never the other way.',
      from: { path: '^src/factors/' },
      to: { path: outside('factors', 'users', 'sessions', 'mail', 'common', 'config') },
    },
    {
      name: 'no-feature-imports-pages',
      severity: 'error',
      comment:
        'src/pages/ (the HTML pages) sits on top: it uses the features, none uses it. A feature that needs ' +
        'a page declares what it needs (e.g. auth/browser-form.ts FormPages) and PagesModule provides it.',
      from: { path: '^src/[^/]+/', pathNot: '^src/pages/' },
      to: { path: '^src/pages/' },
    },
    {
      name: 'migrations-stand-alone',
      severity: 'error',
      comment:
        'A migration is frozen when released: it must not import the app (an entity or a helper that changes ' +
        'later would change what an old migration does).',
      from: { path: '^migrations/' },
      to: { path: '^src/' },
    },
    {
      name: 'src-not-to-test-or-tools',
      severity: 'error',
      comment: 'The app does not import tests, benchmarks, scripts or spec files.',
      from: { path: '^src/' },
      to: { path: ['^(?:test|bench|scripts)/', '[.]spec[.]ts$'] },
    },

    // ---- dependency-cruiser's usual checks ----
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports and that imports nothing: dead code, or something not wired in.',
      from: { orphan: true, pathNot: ['[.]d[.]ts$', '(^|/)[.][^/]+[.](?:js|cjs|mjs|ts)$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file or package.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'A package imported that package.json does not declare (it is only there by accident).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'The app imports a devDependency: `npm ci --omit=dev` (production) would not have it. Declare it in ' +
        'dependencies, or keep the import in a test.',
      from: { path: '^(?:src|migrations)/|^ormconfig[.]ts$', pathNot: '[.]spec[.]ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'], pathNot: 'node_modules/@types/' },
    },
    {
      name: 'no-duplicate-dep-types',
      severity: 'error',
      comment: 'A package declared both in dependencies and devDependencies.',
      from: {},
      to: { moreThanOneDependencyType: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-deprecated-core',
      severity: 'error',
      comment: 'A deprecated Node core module.',
      from: {},
      to: {
        dependencyTypes: ['core'],
        path: ['^(?:punycode|domain|constants|sys|_linklist|_stream_wrap)$', '^v8/tools/', '^node-inspect/'],
      },
    },
    {
      name: 'not-to-deprecated',
      severity: 'warn',
      comment: 'A package version its authors have deprecated.',
      from: {},
      to: { dependencyTypes: ['deprecated'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The import statements as written, type-only ones included (TypeScript would erase them).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules may be a link (a worktree sharing another's); keep its paths as node_modules/...
    preserveSymlinks: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      archi: { collapsePattern: '^src/[^/]+|^migrations|node_modules/(?:@[^/]+/[^/]+|[^/]+)' },
    },
  },
};
