import type { Metadata } from 'next';
import { listBulkOperations } from '@/db/bulk-operations';
import { getDb } from '@/db/client';
import { OperationsList } from '@/components/incidents/operations-list';
import { PageHeader } from '@/components/ui/page-header';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Operations · RxSaga' };

export default async function OperationsPage() {
  const principal = await requirePageViewer('/operations');
  const page = await listBulkOperations(getDb(), { limit: 50 });
  return (
    <>
      <PageHeader
        title="Operations"
        description="Bulk retries and cancels: who started them, why, on what, and how far they got. Start one from Needs intervention."
      />
      <OperationsList initial={page} canOperate={canOperate(principal)} />
    </>
  );
}
