import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'artifacts/',
      'build-local/',
      'jest.config.js',
      'jest.browser.config.js',
      'jest.pg.config.js',
      'eslint.config.mjs',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  // Typed rules: a promise nobody awaits, an async callback where a void one is expected, a
  // switch that forgets a case, values of type any spreading through the code.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-console': ['error', { allow: ['warn', 'error'] }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  // Specs read supertest's response bodies, typed `any` by design: asserting on them is the point.
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['scripts/**', 'bench/**', '.ci/**'], rules: { 'no-console': 'off' } },
  // Plain CommonJS probes run by the bench under Node (bench/probe).
  { files: ['bench/**/*.js'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  // The pages' scripts run in the browser, as ES modules.
  { files: ['src/pages/public/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'module' } },
);
