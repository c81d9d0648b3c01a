import type { AuditActor } from '@/db/audit';
import { hasRole, type Role } from './roles';

export type { Role } from './roles';

/** Who is asking: a person's session, a named API token, or the configured RXSAGA_API_TOKEN. */
export interface Principal {
  role: Role;
  /** The account's username or the token's name: what events and the audit trail record. */
  actor: string;
  via: 'session' | 'token';
  /** The session's id hash or the named token's id, for re-checks (the live stream); none for RXSAGA_API_TOKEN. */
  ref?: string;
}

/** The actor the command handlers and the audit trail record for a principal in a request. */
export const auditActorOf = (p: Principal, requestId: string | null = null): AuditActor => ({
  actor: p.actor,
  role: p.role,
  requestId,
});

/** The actor of RXSAGA_API_TOKEN (DESIGN). Not a valid username, so no account can pose as it. */
export const API_TOKEN_ACTOR = 'api';

export const canOperate = (p: Principal | null) => p !== null && hasRole(p.role, 'operator');
export const canAdminister = (p: Principal | null) => p !== null && hasRole(p.role, 'admin');
