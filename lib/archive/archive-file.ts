import { z } from 'zod';

/**
 * The archive's file format, pure. An archive file is gzip-compressed JSON Lines, one line per
 * saga: its saga row, its domain rows and its events (saga and order streams), each row exactly
 * as PostgreSQL's `to_jsonb` writes it, so a restore puts back the same values to the
 * microsecond with `jsonb_populate_recordset` on the same table. Beside it, a manifest says what
 * the file holds and its checksum: the archiver deletes hot rows only after reading the written
 * file back and finding it matches (verifyArchive).
 */

export const ARCHIVE_FORMAT = 'rxsaga-archive/1';

/** The tables a saga's rows live in, besides `events`, and the column that names the saga. */
export const SAGA_ROW_TABLES = [
  'order_fulfillment_sagas',
  'orders',
  'prescriptions',
  'inventory_reservations',
  'shipments',
] as const;
export type SagaRowTable = (typeof SAGA_ROW_TABLES)[number];

const row = z.record(z.string(), z.unknown());

export const archivedSagaRecordSchema = z.object({
  sagaId: z.uuid(),
  rows: z.object(
    Object.fromEntries(SAGA_ROW_TABLES.map((t) => [t, z.array(row)])) as Record<
      SagaRowTable,
      z.ZodArray<typeof row>
    >,
  ),
  events: z.array(row).min(1),
});
export type ArchivedSagaRecord = z.infer<typeof archivedSagaRecordSchema>;

export const archiveManifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  /** The data file, relative to the archive directory. */
  file: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  sagas: z.number().int().positive(),
  events: z.number().int().positive(),
  rows: z.record(z.string(), z.number().int().nonnegative()),
  startedFrom: z.string(),
  startedTo: z.string(),
  completedFrom: z.string(),
  completedTo: z.string(),
  /** SHA-256 of the compressed file, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  sagaIds: z.array(z.uuid()),
});
export type ArchiveManifest = z.infer<typeof archiveManifestSchema>;

/**
 * Parses the lines of a decompressed archive file; a malformed line is an error, not a skip.
 * With `only`, just that saga's line: the others are not parsed (a file holds thousands), only
 * those whose text names the saga id are, and the one whose record is that saga is kept.
 */
export function parseArchiveLines(text: string, only?: string): ArchivedSagaRecord[] {
  const records: ArchivedSagaRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.length === 0 || (only !== undefined && !line.includes(only))) return;
    let record: ArchivedSagaRecord;
    try {
      record = archivedSagaRecordSchema.parse(JSON.parse(line));
    } catch (err) {
      throw new Error(`archive line ${i + 1} is not a saga record`, { cause: err });
    }
    if (only === undefined || record.sagaId === only) records.push(record);
  });
  return records;
}

/**
 * Problems found reading back a written archive file (none: it may replace the hot rows): its
 * checksum must be the manifest's, and its decompressed bytes exactly what was meant to be
 * written. Byte equality is the strongest check there is, and cheaper than parsing the lines.
 */
export function verifyArchive(
  manifest: ArchiveManifest,
  readBack: { sha256: string; bytes: number; content: Uint8Array },
  intended: Uint8Array,
): string[] {
  const problems: string[] = [];
  if (readBack.sha256 !== manifest.sha256) problems.push('checksum differs from the manifest');
  if (readBack.bytes !== manifest.bytes)
    problems.push(`${readBack.bytes} bytes on disk, manifest says ${manifest.bytes}`);
  if (!Buffer.from(readBack.content).equals(Buffer.from(intended)))
    problems.push('content read back differs from what was written');
  return problems;
}

/** `2026/08/sagas-20261201T031700Z-3.jsonl.gz`: by month of the run, then run time and batch. */
export function archiveFileName(runAt: Date, batch: number): string {
  const iso = runAt.toISOString();
  const stamp = iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/sagas-${stamp}-${batch}.jsonl.gz`;
}

export const manifestNameOf = (file: string) => file.replace(/\.jsonl\.gz$/, '.manifest.json');
