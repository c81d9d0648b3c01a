// Types for db/postgres-patch.mjs (plain JavaScript: it runs at `npm install`, before tsx).
export const POSTGRES_VERSION: string;
export function findPostgres(from?: string): string | undefined;
export function postgresPatchProblems(dir?: string): string[];
export function applyPostgresPatches(dir?: string): number;
export function assertPostgresPatched(from?: string): void;
/** Each patched file: its marker, and the [original, patched] code of every place it changes. */
export const POSTGRES_PATCHES: readonly {
  file: string;
  mark: string;
  replacements: readonly (readonly [string, string])[];
}[];
