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
    // lib/ is the pure tier: rules, state machine, decisions, formats. No I/O, so nothing of the
    // database, the worker, the web server or Next.js; every other tier calls into it, never back.
    // Type-only imports of row shapes from db/ are allowed: they are erased at build time.
    files: ['lib/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/db', '@/db/**'],
              allowTypeImports: true,
              message: 'lib/ is the pure tier: it may name db/ row types, never call db/.',
            },
            {
              group: [
                '@/jobs',
                '@/jobs/**',
                '@/app/**',
                '@/server',
                '@/server/**',
                '@/components/**',
              ],
              message: 'lib/ is the pure tier: no worker, server or web code.',
            },
            {
              group: ['next', 'next/**', 'react', 'react-dom', 'server-only'],
              message: 'lib/ does not use Next.js or React.',
            },
            {
              group: [
                'postgres',
                'drizzle-orm',
                'drizzle-orm/**',
                'graphile-worker',
                'pino',
                'prom-client',
                'node:fs',
                'node:fs/**',
              ],
              message: 'lib/ does no I/O: persistence is db/, logging and metrics are server/.',
            },
          ],
        },
      ],
    },
  },
  {
    // db/ is persistence: it serves server/ and jobs/, and never imports them (tests may drive
    // the commands that write what they check).
    files: ['db/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@/server',
                '@/server/**',
                '@/jobs',
                '@/jobs/**',
                '@/app/**',
                '@/components/**',
              ],
              message:
                'db/ is persistence: commands (server/) and tasks (jobs/) call it, not the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    // server/ (commands, auth, HTTP, actions) and jobs/ are not pages: they never import app/ or components/.
    files: ['server/**', 'jobs/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@/app/**', '@/components/**'],
              message: 'server/ and jobs/ are called by pages, never the reverse.',
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
