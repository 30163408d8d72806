// Lint rules that guard the house's boundaries (docs/ARCHITECTURE.md), run by `npm test`.
//
// - Workflow code must be deterministic: src/workflows imports only @temporalio/workflow, the pure
//   decisions in src/core, constants, and *types* of activities. A value import of an I/O module
//   would be bundled into the workflow sandbox (and fail there, or worse, work by accident).
// - src/core holds pure decisions: no I/O modules, no Temporal, only types from the I/O layers.
// - A promise nobody awaits is a step that may silently not happen: no-floating-promises everywhere.
// - The dashboard's pages run src/dashboard/browser in a browser (bundled by src/dashboard/bundle.ts): it
//   takes values only from itself and the pure src/dashboard/view.ts, types from the server's modules;
//   view.ts imports no values; the rest of src runs in Node, where the DOM's globals (typed for the pages,
//   tsconfig.json) do not exist.
import tseslint from 'typescript-eslint';

const ioModules = [
  'pg', 'axios', 'yaml', 'fs', 'fs/promises', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto',
];
const ioLayers = ['activities', 'postgres', 'flink', 'stack', 'warehouse', 'load', 'cli', 'worker'];

const browserGlobals = ['window', 'document', 'localStorage', 'sessionStorage', 'location', 'navigator', 'EventSource', 'HTMLElement'];

function restricted(extraPatterns, message) {
  return {
    paths: ioModules.map((name) => ({ name, message })),
    patterns: [
      { group: ['node:*'], message },
      {
        group: ioLayers.flatMap((layer) => [`../${layer}`, `../${layer}/*`, `../../${layer}`, `../../${layer}/*`]),
        message: `${message} (import only types from the I/O layers: \`import type\`)`,
        allowTypeImports: true,
      },
      ...extraPatterns,
    ],
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.gridflow*/**', '.scratch/**', 'docs/**', 'sql/**', 'jars/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-duplicate-imports': 'error',
    },
  },
  {
    // Test doubles keep `this` as a model and load some modules lazily; neither reaches production.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-this-alias': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/dashboard/browser/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', restricted(
        [{
          group: ['../*', '!../view', '../../*', 'echarts', 'echarts/*'],
          message: 'the pages\' scripts take values from ./ and ../view only (ECharts is the page\'s <script>): import the rest\'s types with `import type`',
          allowTypeImports: true,
        }],
        'the pages\' scripts run in a browser: no Node modules',
      )],
    },
  },
  {
    files: ['src/dashboard/view.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['*'], message: 'view.ts is bundled into the pages (src/dashboard/bundle.ts): it imports no values', allowTypeImports: true }],
      }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/dashboard/browser/**'],
    rules: {
      'no-restricted-globals': ['error', ...browserGlobals.map((name) => ({ name, message: 'a browser global: only src/dashboard/browser runs in a browser' }))],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', restricted(
        [{ group: ['@temporalio/*', '!@temporalio/workflow', '!@temporalio/common'], message: 'workflow code uses @temporalio/workflow only' }],
        'workflow code is deterministic: side effects belong in an activity',
      )],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', restricted(
        [
          { group: ['@temporalio/*'], message: 'src/core is plain decisions: no Temporal here' },
          { group: ['../workflows', '../workflows/*'], message: 'src/core must not depend on workflows' },
        ],
        'src/core holds pure decisions: do the I/O in an activity and pass the result in',
      )],
    },
  },
);
