import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listInterventions } from '@/db/queries/interventions';
import { InterventionQueue } from '@/components/interventions/intervention-queue';
import { PageHeader } from '@/components/ui/page-header';
import { forViewer } from '@/lib/auth/redact';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/lib/web/page-auth';

export const metadata: Metadata = { title: 'Needs intervention · RxSaga' };

export default async function InterventionsPage() {
  const principal = await requirePageViewer('/interventions');
  const queue = forViewer(principal, await listInterventions(getDb()));
  return (
    <>
      <PageHeader
        title="Needs intervention"
        description="Sagas whose step or compensation ran out of retries, or stalled. Oldest first: retry them once the cause is fixed, or cancel them to roll back."
      />
      <InterventionQueue initial={queue} canOperate={canOperate(principal)} />
    </>
  );
}
