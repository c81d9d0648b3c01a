import type { AuditActor } from '@/db/audit';

/**
 * Roles: a viewer reads everything (patient ids masked); an operator also retries, cancels,
 * changes stock and fault injection. Machine clients with the API token act as operators.
 */
export type Role = 'viewer' | 'operator';

export interface Principal {
  role: Role;
  /** The name recorded in events and the audit trail. */
  actor: string;
  via: 'session' | 'token';
}

/** The actor the command handlers and the audit trail record for a principal in a request. */
export const auditActorOf = (p: Principal, requestId: string | null = null): AuditActor => ({
  actor: p.actor,
  role: p.role,
  requestId,
});

export const API_TOKEN_ACTOR = 'api-token';
