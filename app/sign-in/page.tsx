import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Notice } from '@/components/ui/badge';
import { buttonClass } from '@/components/ui/button';
import { safeReturnPath } from '@/lib/auth/return-path';
import { oidcSettings } from '@/server/auth/oidc';
import { getSession } from '@/server/auth/session';
import type { SsoRefusal } from '@/server/commands/sso-sign-in';
import { SignInForm } from './sign-in-form';
import styles from './sign-in.module.css';

export const metadata: Metadata = { title: 'Sign in · RxSaga' };

/** Why a single sign-on came back refused (`?sso=`, set by /api/session/oidc/callback). */
const SSO_MESSAGES: Record<SsoRefusal, string> = {
  unavailable: 'The sign-on provider cannot be reached right now. Try again in a moment.',
  expired:
    'That sign-on attempt has expired or was already used (or was started in another browser). Start again.',
  rejected:
    "The sign-on provider's answer could not be verified, so you were not signed in. Start again.",
  denied: 'The sign-on provider did not sign you in.',
  no_role:
    'Your sign-on account has no role in RxSaga: ask an admin to add you to a group that gives access.',
  no_username: 'Your sign-on account has no username RxSaga can use: ask an admin.',
  username_taken:
    'Your sign-on username belongs to another RxSaga account: ask an admin to rename one of them.',
  disabled: 'Your account is disabled: ask an admin.',
  last_admin:
    'Your sign-on groups no longer make you an admin, and you are the last enabled admin: another account must be made admin first.',
};

const ssoMessage = (code: unknown) =>
  typeof code === 'string' && Object.hasOwn(SSO_MESSAGES, code)
    ? SSO_MESSAGES[code as SsoRefusal]
    : null;

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { next, sso } = await searchParams;
  const target = safeReturnPath(next);
  if (await getSession()) redirect(target);
  const refused = ssoMessage(sso);
  const ssoHref =
    target === '/' ? '/api/session/oidc' : `/api/session/oidc?next=${encodeURIComponent(target)}`;
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
        {refused ? (
          <Notice tone="danger" role="alert">
            {refused}
          </Notice>
        ) : null}
        {oidcSettings() ? (
          <div className={styles.sso}>
            {/* A plain link: the browser leaves for the provider (no prefetch of an API route). */}
            <a href={ssoHref} className={buttonClass({ variant: 'primary' })}>
              Sign in with SSO
            </a>
            <p className={styles.or}>or with a username and password</p>
          </div>
        ) : null}
        <SignInForm next={target} />
      </div>
    </main>
  );
}
