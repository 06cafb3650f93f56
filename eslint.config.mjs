import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'jest.config.js', 'jest.browser.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': ['error', { allow: ['warn', 'error'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  { files: ['scripts/**', 'bench/**', '.ci/**'], rules: { 'no-console': 'off' } },
  // Plain CommonJS probes run by the bench under Node (bench/probe).
  { files: ['bench/**/*.js'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  // The pages' scripts run in the browser, as ES modules.
  { files: ['src/pages/public/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'module' } },
);
