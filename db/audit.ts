import type { Role } from '@/lib/auth/roles';
import type { DbOrTx } from './client';
import { auditLog } from './schema';

export const AUDIT_ACTIONS = [
  'saga.retry',
  'saga.cancel',
  'inventory.set_on_hand',
  'faults.set',
  'session.sign_in',
  'session.sign_in_failed',
  'session.sign_in_locked',
  'session.sign_out',
  'task.pause',
  'task.resume',
  'bulk.create',
  'bulk.cancel',
  'account.create',
  'account.update',
  'account.password_change',
  'account.password_change_failed',
  'token.create',
  'token.revoke',
  'alerts.send_test',
  'alerts.retry_delivery',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export type AuditRole = Role | 'anonymous';

/** Who acts, as the audit trail records it; route handlers and server actions build it from the principal. */
export interface AuditActor {
  actor: string;
  role: AuditRole;
  requestId?: string | null;
}

export interface AuditEntry {
  action: AuditAction;
  target?: string | null;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Pass the transaction that makes the change, so the record and the change commit together. */
export async function recordAudit(tx: DbOrTx, by: AuditActor, entry: AuditEntry): Promise<void> {
  await recordAudits(tx, by, [entry]);
}

/** Several entries by one actor in one statement (a bulk operation's batch), in this order. */
export async function recordAudits(
  tx: DbOrTx,
  by: AuditActor,
  entries: readonly AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await tx.insert(auditLog).values(
    entries.map((entry) => ({
      actor: by.actor,
      role: by.role,
      requestId: by.requestId ?? null,
      action: entry.action,
      target: entry.target ?? null,
      reason: entry.reason ?? null,
      before: entry.before ?? null,
      after: entry.after ?? null,
    })),
  );
}
