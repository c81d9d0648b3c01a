import { defineConfig } from 'drizzle-kit';

/**
 * `npm run db:generate` only diffs db/schema.ts against the snapshots in db/migrations and needs
 * no database. Commands that connect (studio, check against a live DB) default to the embedded
 * database of `npm start` (db/embedded.ts: loopback only, fixed password).
 */
export default defineConfig({
  schema: './db/schema.ts',
  out: './db/migrations',
  dialect: 'postgresql',
  dbCredentials: {
    url: process.env.DATABASE_URL || 'postgres://postgres:rxsaga@127.0.0.1:54329/rxsaga',
  },
});
