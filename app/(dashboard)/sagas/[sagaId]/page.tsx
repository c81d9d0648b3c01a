import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { findArchivedSaga } from '@/db/archive';
import { getDb } from '@/db/client';
import { getSagaDetail } from '@/db/queries/sagas';
import { ArchivedSagaNotice } from '@/components/archive/archived-saga-notice';
import { SagaDetailLive } from '@/components/saga/saga-detail-live';
import { PageHeader } from '@/components/ui/page-header';
import { forViewer } from '@/lib/auth/redact';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Saga · RxSaga' };

export default async function SagaPage({ params }: { params: Promise<{ sagaId: string }> }) {
  const { sagaId } = await params;
  const principal = await requirePageViewer(`/sagas/${sagaId}`);
  const detail = await getSagaDetail(getDb(), sagaId);
  if (!detail) {
    const archived = await findArchivedSaga(getDb(), sagaId);
    if (!archived) notFound();
    return (
      <>
        <PageHeader
          title="Saga archived"
          description="Finished long ago, it left the hot tables."
        />
        <ArchivedSagaNotice archived={archived} />
      </>
    );
  }
  return (
    <SagaDetailLive initial={forViewer(principal, detail)} canOperate={canOperate(principal)} />
  );
}
