'use client';

import { useActionState, useState } from 'react';
import { Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/field';
import { signInAction } from '@/server/actions/session';
import styles from './sign-in.module.css';

export function SignInForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState(signInAction, null);
  // Controlled, so a refused attempt keeps the name typed (React resets the form after an action).
  const [username, setUsername] = useState('');
  const errors = state && !state.ok ? state.fieldErrors : {};
  return (
    <form action={action} className={styles.form} noValidate>
      <input type="hidden" name="next" value={next} />
      <Field label="Username" errors={errors.username}>
        {(c) => (
          <Input
            {...c}
            name="username"
            autoComplete="username"
            maxLength={64}
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        )}
      </Field>
      <Field label="Password" errors={errors.password}>
        {(c) => (
          <Input {...c} name="password" type="password" autoComplete="current-password" required />
        )}
      </Field>
      {state && !state.ok && !errors.password && !errors.username ? (
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
