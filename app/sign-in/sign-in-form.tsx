'use client';

import { useActionState } from 'react';
import { Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/field';
import { signInAction } from '@/server/actions/session';
import styles from './sign-in.module.css';

export function SignInForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState(signInAction, null);
  const errors = state && !state.ok ? state.fieldErrors : {};
  return (
    <form action={action} className={styles.form} noValidate>
      <input type="hidden" name="next" value={next} />
      <Field
        label="Your name"
        hint="Optional: recorded in the audit log instead of your role."
        errors={errors.name}
      >
        {(c) => <Input {...c} name="name" autoComplete="username" maxLength={64} />}
      </Field>
      <Field label="Password" errors={errors.password}>
        {(c) => (
          <Input {...c} name="password" type="password" autoComplete="current-password" required />
        )}
      </Field>
      {state && !state.ok && !errors.password && !errors.name ? (
        <Notice tone="danger" role="alert">
          {state.message}
        </Notice>
      ) : null}
      <Button type="submit" variant="primary" disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in'}
      </Button>
    </form>
  );
}
