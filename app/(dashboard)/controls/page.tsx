import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listTaskControls } from '@/db/queries/task-controls';
import { TaskControls } from '@/components/incidents/task-controls';
import { PageHeader } from '@/components/ui/page-header';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Controls · RxSaga' };

export default async function ControlsPage() {
  const principal = await requirePageViewer('/controls');
  const tasks = await listTaskControls(getDb());
  return (
    <>
      <PageHeader
        title="Controls"
        description="Pause a task while what it calls is down (say, the carrier): sagas wait at it instead of burning their retries, and go on when it is resumed."
      />
      <TaskControls initial={tasks} canOperate={canOperate(principal)} />
    </>
  );
}
