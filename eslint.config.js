import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const folders = ['protocol', 'server', 'electron', 'renderer'];
const importsOf = (folder) =>
  folders
    .filter((other) => other !== folder && other !== 'protocol')
    .flatMap((other) => [`../${other}/*`, `../../${other}/*`, `../../../${other}/*`, `../../../../${other}/*`]);

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'renderer/dist', 'playwright-report', 'test-results', 'bench/results', '.data'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    files: ['protocol/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['../*', '!../protocol'], message: 'protocol/ imports no other folder.' },
          { group: ['node:*', 'fs', 'path', 'electron', 'react'], message: 'protocol/ runs in Node and the browser: zod and socket.io-client only.' },
        ],
      }],
    },
  },
  {
    // Tests of the contract run in Node and may start servers; the code under test may not.
    files: ['protocol/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['../*', '!../protocol'], message: 'protocol/ imports no other folder.' }] }] },
  },
  {
    files: ['server/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: importsOf('server'), message: 'server/ imports only protocol/.' }, { group: ['electron', 'react', 'react-dom'], message: 'the hub runs in plain Node.' }] }] },
  },
  {
    files: ['electron/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: importsOf('electron'), message: 'electron/ imports only protocol/.' }] }] },
  },
  {
    // The desktop shell's tests run against a real hub started by the shared test-only helper, which
    // spawns `greenlight hub` as a child process and imports none of the hub's code, and use the shared
    // test helpers that import nothing either; nothing else of server/.
    files: ['electron/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: importsOf('electron').filter((pattern) => !pattern.includes('/server/')), message: 'electron/ imports only protocol/.' },
          { regex: '^(\\.\\./)+server/(?!test-support/(hub-process|eventually|admin-token)\\.js$)', message: 'electron/ tests import from server/ only the test helpers that import nothing of the hub (hub-process, eventually, admin-token).' },
        ],
      }],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: importsOf('renderer'), message: 'renderer/ imports only protocol/.' },
          { group: ['electron', 'node:*', 'fs', 'path', 'child_process'], message: 'the renderer runs sandboxed: no electron, no node:*.' },
        ],
      }],
    },
  },
);
