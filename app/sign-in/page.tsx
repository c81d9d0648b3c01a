import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { safeReturnPath } from '@/lib/auth/return-path';
import { getSession } from '@/server/auth/session';
import { SignInForm } from './sign-in-form';
import styles from './sign-in.module.css';

export const metadata: Metadata = { title: 'Sign in · RxSaga' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { next } = await searchParams;
  const target = safeReturnPath(next);
  if (await getSession()) redirect(target);
  return (
    <main className={styles.page}>
      <div className={styles.panel}>
        <p className={styles.brand}>
          <span aria-hidden="true" className={styles.mark}>
            Rx
          </span>
          <span>RxSaga</span>
        </p>
        <h1 className={styles.title}>Sign in to the operations dashboard</h1>
        <p className={styles.lead}>
          Sign in with your own account: everything you do is recorded under your name. Ask an admin
          for an account.
        </p>
        <SignInForm next={target} />
      </div>
    </main>
  );
}
