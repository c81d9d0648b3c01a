import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getDb } from '@/db/client';
import { getSagaDetail } from '@/db/queries/sagas';
import { SagaDetailLive } from '@/components/saga/saga-detail-live';
import { forViewer } from '@/lib/auth/redact';
import { requirePageViewer } from '@/lib/web/page-auth';

export const metadata: Metadata = { title: 'Saga · RxSaga' };

export default async function SagaPage({ params }: { params: Promise<{ sagaId: string }> }) {
  const { sagaId } = await params;
  const principal = await requirePageViewer(`/sagas/${sagaId}`);
  const detail = await getSagaDetail(getDb(), sagaId);
  if (!detail) notFound();
  return (
    <SagaDetailLive
      initial={forViewer(principal, detail)}
      canOperate={principal.role === 'operator'}
    />
  );
}
