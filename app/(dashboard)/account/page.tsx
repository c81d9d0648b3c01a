import type { Metadata } from 'next';
import { findAccount } from '@/db/accounts';
import { getDb } from '@/db/client';
import { ChangePasswordForm } from '@/components/people/change-password-form';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { ROLE_LABELS } from '@/lib/auth/roles';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Your account · RxSaga' };

export default async function AccountPage() {
  const principal = await requirePageViewer('/account');
  const account = await findAccount(getDb(), principal.actor);
  return (
    <>
      <PageHeader
        title="Your account"
        description={`Signed in as ${principal.actor}, ${ROLE_LABELS[principal.role].toLowerCase()}.`}
      />
      <Card title="Change your password">
        {account?.passwordHash ? (
          <ChangePasswordForm />
        ) : (
          <p>You sign in through single sign-on: your password is managed there.</p>
        )}
      </Card>
    </>
  );
}
