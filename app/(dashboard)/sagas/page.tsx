import type { Metadata } from 'next';
import { findArchivedSaga } from '@/db/archive';
import { getDb } from '@/db/client';
import {
  listSagas,
  sagaListQuerySchema,
  type SagaListQuery,
  type SagaPage,
} from '@/db/queries/sagas';
import { ArchivedSagaNotice } from '@/components/archive/archived-saga-notice';
import { SagaFilters } from '@/components/saga/saga-filters';
import { SagasTable } from '@/components/saga/sagas-table';
import { Notice } from '@/components/ui/badge';
import { PageHeader } from '@/components/ui/page-header';
import type { Principal } from '@/lib/auth/principal';
import { forViewer, seesPatientData } from '@/lib/auth/redact';
import { AppError } from '@/lib/errors';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Sagas · RxSaga' };

type Search = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;

/** A page of sagas, or the refusal to show instead (a cursor from elsewhere, say). */
async function loadPage(principal: Principal, query: SagaListQuery): Promise<SagaPage | string> {
  try {
    const scope = { matchPatientId: seesPatientData(principal) };
    return forViewer(principal, await listSagas(getDb(), query, scope));
  } catch (error) {
    if (error instanceof AppError) return error.message;
    throw error;
  }
}

export default async function SagasPage({ searchParams }: { searchParams: Promise<Search> }) {
  const principal = await requirePageViewer('/sagas');
  const raw = await searchParams;
  const filters = {
    state: first(raw.state),
    needsIntervention: first(raw.needsIntervention),
    q: first(raw.q),
  };
  const parsed = sagaListQuerySchema.safeParse({
    ...filters,
    cursor: first(raw.cursor),
    limit: 50,
  });
  const page = parsed.success ? await loadPage(principal, parsed.data) : null;
  // A search for an order or saga that is no longer hot says where it went.
  const archived =
    parsed.success && parsed.data.q && typeof page === 'object' && page?.items.length === 0
      ? await findArchivedSaga(getDb(), parsed.data.q)
      : null;

  const base = new URLSearchParams(
    Object.entries(filters).filter((e): e is [string, string] => Boolean(e[1])),
  ).toString();
  const apiQuery = new URLSearchParams(base);
  if (parsed.success && parsed.data.cursor) apiQuery.set('cursor', parsed.data.cursor);
  apiQuery.set('limit', '50');

  return (
    <>
      <PageHeader
        title="Sagas"
        description="Every order's fulfillment, newest first. Changes appear as they happen."
      />
      <SagaFilters
        state={parsed.success ? parsed.data.state : undefined}
        needsIntervention={parsed.success ? parsed.data.needsIntervention : undefined}
        q={filters.q}
        patientSearch={seesPatientData(principal)}
      />
      {archived ? <ArchivedSagaNotice archived={archived} /> : null}
      {!parsed.success ? (
        <Notice tone="danger">
          These filters are not valid:{' '}
          {parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}
        </Notice>
      ) : typeof page === 'string' || page === null ? (
        <Notice tone="danger">{page ?? 'Could not load sagas'}</Notice>
      ) : (
        <SagasTable
          initial={page}
          query={apiQuery.toString()}
          olderHref={`/sagas?${base ? `${base}&` : ''}cursor=__CURSOR__`}
          newestHref={parsed.data.cursor ? `/sagas${base ? `?${base}` : ''}` : null}
        />
      )}
    </>
  );
}
