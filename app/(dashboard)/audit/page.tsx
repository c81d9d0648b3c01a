import type { Metadata } from 'next';
import Form from 'next/form';
import { displayNamesOf } from '@/db/accounts';
import { AUDIT_ACTIONS } from '@/db/audit';
import { getDb } from '@/db/client';
import { auditQuerySchema, listAudit } from '@/db/queries/audit';
import { AuditTable } from '@/components/audit/audit-table';
import styles from '@/components/audit/audit.module.css';
import { Notice } from '@/components/ui/badge';
import { Button, LinkButton } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Field, Input, Select } from '@/components/ui/field';
import { PageHeader } from '@/components/ui/page-header';
import { forViewer } from '@/lib/auth/redact';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Audit · RxSaga' };

type Search = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;

export default async function AuditPage({ searchParams }: { searchParams: Promise<Search> }) {
  const principal = await requirePageViewer('/audit');
  const raw = await searchParams;
  const filters = { action: first(raw.action), target: first(raw.target) };
  const parsed = auditQuerySchema.safeParse({ ...filters, cursor: first(raw.cursor) });
  const page = parsed.success ? forViewer(principal, await listAudit(getDb(), parsed.data)) : null;
  const people = page
    ? await displayNamesOf(
        getDb(),
        page.items.map((e) => e.actor),
      )
    : new Map();
  const base = new URLSearchParams(
    Object.entries(filters).filter((e): e is [string, string] => Boolean(e[1])),
  ).toString();
  return (
    <>
      <PageHeader
        title="Audit"
        description="Every operator action, sign-in and settings change, with who, when and why."
      />
      <Form
        action="/audit"
        className={styles.filters}
        role="search"
        aria-label="Filter the audit log"
      >
        <Field label="Action">
          {(c) => (
            <Select {...c} name="action" defaultValue={filters.action ?? ''}>
              <option value="">Any action</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Target (saga id, SKU…)">
          {(c) => <Input {...c} name="target" defaultValue={filters.target ?? ''} />}
        </Field>
        <Button type="submit" variant="primary">
          Apply
        </Button>
        <LinkButton href="/audit" variant="ghost">
          Clear
        </LinkButton>
      </Form>
      {page ? (
        <Card>
          <AuditTable items={page.items} people={people} />
          <nav className={styles.pager} aria-label="Pages">
            {parsed.success && parsed.data.cursor ? (
              <LinkButton href={`/audit${base ? `?${base}` : ''}`} size="small">
                ← Newest
              </LinkButton>
            ) : (
              <span />
            )}
            {page.nextCursor ? (
              <LinkButton
                href={`/audit?${base ? `${base}&` : ''}cursor=${page.nextCursor}`}
                size="small"
              >
                Older →
              </LinkButton>
            ) : null}
          </nav>
        </Card>
      ) : (
        <Notice tone="danger">These filters are not valid.</Notice>
      )}
    </>
  );
}
