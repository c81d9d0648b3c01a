'use client';

import { useActionState } from 'react';
import {
  changeAccountAction,
  createAccountAction,
  createTokenAction,
  revokeTokenAction,
} from '@/server/actions/people';
import type { AccountView } from '@/db/accounts';
import type { ApiTokenView } from '@/db/api-tokens';
import { Badge, Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, FieldError, Input, Select } from '@/components/ui/field';
import { Td } from '@/components/ui/table';
import { ROLE_LABELS, ROLES } from '@/lib/auth/roles';
import { formatTimestamp } from '@/lib/web/format';
import styles from './people.module.css';

function RoleOptions() {
  return ROLES.map((r) => (
    <option key={r} value={r}>
      {ROLE_LABELS[r]}
    </option>
  ));
}

/** One account: its facts, and an admin's three changes (role, enabled, password). */
export function AccountRow({ account: a, isYou }: { account: AccountView; isYou: boolean }) {
  const [roleState, roleAction, rolePending] = useActionState(changeAccountAction, null);
  const [enableState, enableAction, enablePending] = useActionState(changeAccountAction, null);
  const [pwState, pwAction, pwPending] = useActionState(changeAccountAction, null);
  const refusal = [roleState, enableState, pwState].find((s) => s && !s.ok);
  const label = a.displayName ? `${a.displayName} (${a.username})` : a.username;
  return (
    <tr data-username={a.username}>
      <Td>
        <span className={styles.name}>{a.displayName ?? a.username}</span>
        <span className={styles.username}>
          {a.username}
          {isYou ? ' · you' : ''}
        </span>
        {a.disabled ? <Badge tone="danger">Disabled</Badge> : null}
        {a.sso ? <Badge tone="info">SSO</Badge> : null}
      </Td>
      <Td>
        <form action={roleAction} className={styles.inline}>
          <input type="hidden" name="username" value={a.username} />
          <Select name="role" defaultValue={a.role} aria-label={`Role of ${label}`}>
            <RoleOptions />
          </Select>
          <Button type="submit" size="small" disabled={rolePending}>
            Set role
          </Button>
        </form>
      </Td>
      <Td>{a.lastSignInAt ? formatTimestamp(a.lastSignInAt) : 'never'}</Td>
      <Td numeric>{a.activeSessions}</Td>
      <Td>
        <div className={styles.manage}>
          <form action={enableAction}>
            <input type="hidden" name="username" value={a.username} />
            <input type="hidden" name="disabled" value={a.disabled ? 'false' : 'true'} />
            <Button
              type="submit"
              size="small"
              variant={a.disabled ? 'secondary' : 'danger'}
              disabled={enablePending}
            >
              {a.disabled ? `Enable ${a.username}` : `Disable ${a.username}`}
            </Button>
          </form>
          {a.sso ? null : (
            <form action={pwAction} className={styles.inline}>
              <input type="hidden" name="username" value={a.username} />
              <Input
                name="password"
                type="password"
                autoComplete="new-password"
                placeholder="New password (12+)"
                aria-label={`New password for ${label}`}
                minLength={12}
              />
              <Button type="submit" size="small" disabled={pwPending}>
                Reset password
              </Button>
            </form>
          )}
          {pwState?.ok ? <span role="status">Password reset; signed out everywhere.</span> : null}
          <FieldError errors={refusal && !refusal.ok ? [refusal.message] : undefined} />
        </div>
      </Td>
    </tr>
  );
}

export function CreateAccountForm() {
  const [state, action, pending] = useActionState(createAccountAction, null);
  const errors = state && !state.ok ? state.fieldErrors : {};
  return (
    <form action={action} className={styles.form}>
      <Field label="Username" errors={errors.username}>
        {(c) => <Input {...c} name="username" autoComplete="off" required maxLength={64} />}
      </Field>
      <Field label="Full name" errors={errors.displayName}>
        {(c) => <Input {...c} name="displayName" autoComplete="off" maxLength={100} />}
      </Field>
      <Field label="Role" errors={errors.role}>
        {(c) => (
          <Select {...c} name="role" defaultValue="operator">
            <RoleOptions />
          </Select>
        )}
      </Field>
      <Field
        label="Password"
        hint="At least 12 characters; tell it to the person, who can change it."
        errors={errors.password}
      >
        {(c) => (
          <Input {...c} name="password" type="password" autoComplete="new-password" required />
        )}
      </Field>
      <div className={styles.submit}>
        <Button type="submit" variant="primary" disabled={pending}>
          {pending ? 'Adding…' : 'Add account'}
        </Button>
      </div>
      {state?.ok ? <Notice tone="success">Account {state.data.username} added.</Notice> : null}
      {state && !state.ok && Object.keys(errors).length === 0 ? (
        <Notice tone="danger" role="alert">
          {state.message}
        </Notice>
      ) : null}
    </form>
  );
}

export function TokenRow({ token: t }: { token: ApiTokenView }) {
  const [state, action, pending] = useActionState(revokeTokenAction, null);
  return (
    <tr data-token={t.name}>
      <Td>{t.name}</Td>
      <Td>{ROLE_LABELS[t.role]}</Td>
      <Td>{t.createdBy}</Td>
      <Td>{t.lastUsedAt ? formatTimestamp(t.lastUsedAt) : 'never'}</Td>
      <Td>
        <form action={action}>
          <input type="hidden" name="name" value={t.name} />
          <Button type="submit" size="small" variant="danger" disabled={pending}>
            Revoke {t.name}
          </Button>
        </form>
        <FieldError errors={state && !state.ok ? [state.message] : undefined} />
      </Td>
    </tr>
  );
}

export function CreateTokenForm() {
  const [state, action, pending] = useActionState(createTokenAction, null);
  const errors = state && !state.ok ? state.fieldErrors : {};
  return (
    <form action={action} className={styles.form}>
      <Field
        label="Token name"
        hint="The actor of everything it does, e.g. pharmacy-erp."
        errors={errors.name}
      >
        {(c) => <Input {...c} name="name" autoComplete="off" required maxLength={64} />}
      </Field>
      <Field label="Token role" errors={errors.role}>
        {(c) => (
          <Select {...c} name="role" defaultValue="operator">
            <RoleOptions />
          </Select>
        )}
      </Field>
      <div className={styles.submit}>
        <Button type="submit" disabled={pending}>
          {pending ? 'Making…' : 'Make token'}
        </Button>
      </div>
      {state?.ok ? (
        <Notice tone="success">
          Token {state.data.name}, shown only this once:{' '}
          <code className={styles.secret}>{state.data.token}</code>
        </Notice>
      ) : null}
      {state && !state.ok && Object.keys(errors).length === 0 ? (
        <Notice tone="danger" role="alert">
          {state.message}
        </Notice>
      ) : null}
    </form>
  );
}
