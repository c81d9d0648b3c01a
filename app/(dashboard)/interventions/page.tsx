import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listFailureGroups } from '@/db/queries/failure-groups';
import { listInterventions } from '@/db/queries/interventions';
import { InterventionQueue } from '@/components/interventions/intervention-queue';
import { PageHeader } from '@/components/ui/page-header';
import { forViewer } from '@/lib/auth/redact';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Needs intervention · RxSaga' };

export default async function InterventionsPage() {
  const principal = await requirePageViewer('/interventions');
  const [queue, groups] = await Promise.all([
    listInterventions(getDb()).then((q) => forViewer(principal, q)),
    listFailureGroups(getDb()),
  ]);
  return (
    <>
      <PageHeader
        title="Needs intervention"
        description="Sagas whose step or compensation ran out of retries, or stalled. Grouped by cause first, then one by one, oldest first: retry them once the cause is fixed, or cancel them to roll back."
      />
      <InterventionQueue
        initial={queue}
        initialGroups={groups}
        canOperate={canOperate(principal)}
      />
    </>
  );
}
