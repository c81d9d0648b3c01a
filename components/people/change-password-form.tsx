'use client';

import { useActionState } from 'react';
import { changeOwnPasswordAction } from '@/server/actions/account';
import { Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/field';
import styles from './people.module.css';

export function ChangePasswordForm() {
  const [state, action, pending] = useActionState(changeOwnPasswordAction, null);
  const errors = state && !state.ok ? state.fieldErrors : {};
  return (
    <form action={action} className={styles.form}>
      <Field label="Current password" errors={errors.currentPassword}>
        {(c) => (
          <Input
            {...c}
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            required
          />
        )}
      </Field>
      <Field label="New password" hint="At least 12 characters." errors={errors.newPassword}>
        {(c) => (
          <Input {...c} name="newPassword" type="password" autoComplete="new-password" required />
        )}
      </Field>
      <div className={styles.submit}>
        <Button type="submit" variant="primary" disabled={pending}>
          {pending ? 'Changing…' : 'Change password'}
        </Button>
      </div>
      {state?.ok ? (
        <Notice tone="success" role="status">
          Password changed. Your other sessions were signed out.
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
