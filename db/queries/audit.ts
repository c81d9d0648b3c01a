import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { withoutNul } from '@/lib/input';
import { AUDIT_ACTIONS } from '../audit';
import type { DbOrTx } from '../client';
import { auditLog } from '../schema';

export interface AuditView {
  id: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export const auditQuerySchema = withoutNul(
  z.object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    /** A saga id, a SKU, a task list: what the action was done to. */
    target: z.string().trim().min(1).max(200).optional(),
    /** The id of the last row of the previous page. */
    cursor: z
      .string()
      .regex(/^[1-9]\d{0,14}$/, 'not a cursor from this API')
      .transform(Number)
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  }),
);
export type AuditQuery = z.infer<typeof auditQuerySchema>;

/** Newest first by id (ids only grow); keyset on id, so any page is one index range scan. */
export async function listAudit(
  db: DbOrTx,
  query: AuditQuery,
): Promise<{ items: AuditView[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (query.action) where.push(eq(auditLog.action, query.action));
  if (query.target) where.push(eq(auditLog.target, query.target));
  if (query.cursor) where.push(lt(auditLog.id, query.cursor));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({ ...r, at: r.at.toISOString() })),
    nextCursor: rows.length > query.limit && last ? String(last.id) : null,
  };
}
