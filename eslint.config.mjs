import { defineConfig, globalIgnores } from 'eslint/config';
import nextVitals from 'eslint-config-next/core-web-vitals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores([
    '.next/**',
    'node_modules/**',
    '.data/**',
    'db/migrations/**',
    'e2e-artifacts/**',
    'test-results/**',
    'playwright-report/**',
    'next-env.d.ts',
  ]),
  ...nextVitals,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_name` marks a deliberately unused binding (destructuring to omit a field, etc.).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The pure core: rules, state machine, decisions. No I/O, so nothing of the database, the
    // worker, the web app or Next.js; the write path and the pages call into it, never back.
    files: ['lib/saga/**', 'lib/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/db', '@/db/**', '@/jobs', '@/jobs/**', '@/app/**', '@/server/**'],
              message:
                'lib/saga and lib/domain are the pure core: no database, worker or web code.',
            },
            {
              group: ['next', 'next/**', 'react', 'react-dom'],
              message: 'the pure core does not use Next.js or React.',
            },
            {
              group: ['postgres', 'drizzle-orm', 'drizzle-orm/**', 'graphile-worker'],
              message: 'the pure core does no I/O.',
            },
          ],
        },
      ],
    },
  },
  {
    // Components are shared by pages: they import server actions from server/actions, never from app/.
    files: ['components/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/app/**'],
              message:
                'components must not import from app/: shared server actions live in server/actions.',
            },
          ],
        },
      ],
    },
  },
  {
    // Not React: test helpers named `useX` and Playwright's fixture `use()` are not hooks.
    files: ['**/*.test.ts', 'test/**', 'e2e/**', 'scripts/**', 'jobs/**', 'db/**'],
    rules: { 'react-hooks/rules-of-hooks': 'off' },
  },
]);
