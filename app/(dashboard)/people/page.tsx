import type { Metadata } from 'next';
import { listTokens } from '@/db/api-tokens';
import { getDb } from '@/db/client';
import {
  AccountRow,
  CreateAccountForm,
  CreateTokenForm,
  TokenRow,
} from '@/components/people/people-forms';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { EmptyRow, Table, Th } from '@/components/ui/table';
import { sessionLimits } from '@/server/auth/session';
import { accountsOf } from '@/server/commands/accounts';
import { requirePageAdmin } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'People · RxSaga' };

/** Admins: every account (role, last sign-in, open sessions) and the named API tokens. */
export default async function PeoplePage() {
  const principal = await requirePageAdmin('/people');
  const db = getDb();
  const [accounts, tokens] = await Promise.all([
    accountsOf(db, sessionLimits().idleSeconds),
    listTokens(db),
  ]);
  return (
    <>
      <PageHeader
        title="People"
        description="Everyone who signs in has an account of their own. Disabling an account, or changing its role or password, signs it out everywhere at once."
      />
      <Card title="Accounts">
        <Table caption="Accounts">
          <thead>
            <tr>
              <Th>Account</Th>
              <Th>Role</Th>
              <Th>Last sign-in</Th>
              <Th numeric>Sessions</Th>
              <Th>Manage</Th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <AccountRow key={a.username} account={a} isYou={a.username === principal.actor} />
            ))}
          </tbody>
        </Table>
      </Card>
      <Card title="Add a person" aria-label="Add a person">
        <CreateAccountForm />
      </Card>
      <Card title="API tokens">
        <Table caption="API tokens">
          <thead>
            <tr>
              <Th>Name</Th>
              <Th>Role</Th>
              <Th>Made by</Th>
              <Th>Last used</Th>
              <Th>Revoke</Th>
            </tr>
          </thead>
          <tbody>
            {tokens.length === 0 ? <EmptyRow colSpan={5}>No API tokens yet.</EmptyRow> : null}
            {tokens.map((t) => (
              <TokenRow key={t.name} token={t} />
            ))}
          </tbody>
        </Table>
        <CreateTokenForm />
      </Card>
    </>
  );
}
