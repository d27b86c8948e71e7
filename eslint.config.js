// Lint for bugs, not style (prettier owns layout): typescript-eslint's recommended rules with type
// information, plus the promise and type checks that catch real mistakes in workflow and activity
// code (a forgotten await, a promise where a boolean belongs, a cast that does nothing).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', '.replup/', '.tools/', 'reports/', 'test-artifacts/', 'test/fixtures/'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Files outside tsconfig.json's include (this file, the .mjs entry points) get its options
        // too; so does the OpenEdge simulator (the BDB example is in the program through its test).
        projectService: {
          allowDefaultProject: ['*.js', 'cli/*.mjs', 'scripts/*.mjs', 'examples/openedge/*.ts'],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Fakes and adapters implement async interfaces without awaiting anything: not a bug.
      '@typescript-eslint/require-await': 'off',
      // Adding `cause` would change the failures activities report (Temporal serializes it).
      'preserve-caught-error': 'off',
      'no-regex-spaces': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // A caught error kept and rethrown later is unknown by type; throwing a string literal is the bug.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, allowDefaultCaseForExhaustiveSwitch: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Prettier wraps code at 120; this catches what it cannot wrap (long strings, comments).
      'max-len': [
        'error',
        { code: 120, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true, ignorePattern: '^import\\s' },
      ],
    },
  },
  {
    // Plain-JS entry points run on Node.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // Tests read JSON and mock objects; expect() checks what they hold, so `any` there is no hazard.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
  // eslint-config-prettier turns max-len off; lines over 120 stay an error.
  {
    rules: {
      'max-len': [
        'error',
        { code: 120, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true, ignorePattern: '^import\\s' },
      ],
    },
  },
);
