import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getSession } from '@/lib/auth/session';
import { SignInForm } from './sign-in-form';
import styles from './sign-in.module.css';

export const metadata: Metadata = { title: 'Sign in · RxSaga' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { next } = await searchParams;
  const target = typeof next === 'string' ? next : '/';
  if (await getSession())
    redirect(target.startsWith('/') && !target.startsWith('//') ? target : '/');
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
          Operators can retry and cancel sagas; viewers see everything read-only, with patient ids
          masked.
        </p>
        <SignInForm next={target} />
      </div>
    </main>
  );
}
