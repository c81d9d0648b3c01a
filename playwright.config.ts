import { defineConfig, devices } from '@playwright/test';
import { resolveBrowser } from './scripts/lib/browser';
import { e2eOidcPort, oidcAppEnv } from './test/oidc-env';

/**
 * Browser tests against the real thing: `npm start`'s supervisor (web + worker) on port 3100.
 * Under `npm test` the database is a fresh clone of the run's migrated template
 * (RXSAGA_E2E_DATABASE_URL); run directly (`npx playwright test`) it is a freshly wiped
 * embedded cluster of its own, so a developer's data is never touched.
 */

// RXSAGA_E2E_PORT: another port when something else (another checkout's run) holds 3100.
const PORT = Number(process.env.RXSAGA_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${PORT}`;

// Fixed operator credentials for the server under test; specs read them from process.env.
process.env.RXSAGA_API_TOKEN ??= 'e2e-api-token-0123456789abcdef';
process.env.RXSAGA_ADMIN_PASSWORD ??= 'e2e-admin-password';
process.env.RXSAGA_VIEWER_PASSWORD ??= 'e2e-viewer-password';

const database: Record<string, string> = process.env.RXSAGA_E2E_DATABASE_URL
  ? { DATABASE_URL: process.env.RXSAGA_E2E_DATABASE_URL }
  : {
      DATABASE_URL: '', // empty = unset for scripts/start.ts: never a developer's DATABASE_URL
      RXSAGA_DATA_DIR: '.data/e2e-pg',
      RXSAGA_PG_PORT: '54331',
      RXSAGA_FSYNC: 'off',
      RXSAGA_FRESH_DB: '1',
    };

// Single sign-on (e2e/sso.spec.ts): the spec starts a real OpenID provider on this port; the app
// discovers it on the first "Sign in with SSO", so it need not run before the server starts.
const oidcIssuer = `http://127.0.0.1:${e2eOidcPort()}`;

// CHROMIUM_PATH, else the system's Chromium, else the one inside @sparticuz/chromium (npm).
const browser = resolveBrowser();

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'e2e-artifacts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: browser.executablePath,
          args: browser.args,
          ...(Object.keys(browser.env).length > 0 && { env: { ...process.env, ...browser.env } }),
        },
      },
    },
  ],
  webServer: {
    command: 'node --import tsx scripts/start.ts',
    url: `${baseURL}/api/health`,
    env: {
      ...database,
      PORT: String(PORT),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // Alerts (e2e/alerts.spec.ts): one stuck saga is enough, evaluated every second.
      RXSAGA_ALERT_EVALUATE_SECONDS: '1',
      RXSAGA_ALERT_INTERVENTIONS: '1',
      RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS: '0',
      ...oidcAppEnv(oidcIssuer),
    },
    reuseExistingServer: false,
    // Includes a `next build` when the sources changed since the last one (up to 5 min on 2
    // busy cores).
    timeout: 600_000,
    // SIGTERM lets the supervisor stop web and worker before its database.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
