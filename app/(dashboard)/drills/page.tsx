import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listFaultSettings } from '@/db/faults';
import { getStats } from '@/db/queries/stats';
import { DrillWatch } from '@/components/drills/drill-watch';
import { FaultForm } from '@/components/drills/fault-form';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Drills · RxSaga' };

export default async function DrillsPage() {
  const principal = await requirePageViewer('/drills');
  const db = getDb();
  const [settings, stats] = await Promise.all([listFaultSettings(db), getStats(db, '1h')]);
  return (
    <>
      <PageHeader
        title="Drills"
        description="Inject faults into a task to rehearse incidents: business failures roll sagas back, transient errors are retried and then escalated. Off by default."
      />
      <div style={{ display: 'grid', gap: '1rem' }}>
        <Card title="Fault injection">
          <FaultForm settings={settings} canEdit={canOperate(principal)} />
        </Card>
        <Card title="Watch: the last hour">
          <DrillWatch initial={stats} />
        </Card>
      </div>
    </>
  );
}
