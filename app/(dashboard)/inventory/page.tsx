import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listInventory } from '@/db/queries/stock';
import { StockRow } from '@/components/inventory/stock-row';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { Table, Th } from '@/components/ui/table';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Inventory · RxSaga' };

export default async function InventoryPage() {
  const principal = await requirePageViewer('/inventory');
  const items = await listInventory(getDb());
  const canEdit = canOperate(principal);
  return (
    <>
      <PageHeader
        title="Inventory"
        description="Stock per medication. Reserved units are held by sagas in flight; on hand cannot be set below them."
      />
      <Card>
        <Table caption="Stock levels">
          <thead>
            <tr>
              <Th>Medication</Th>
              <Th numeric>On hand</Th>
              <Th numeric>Reserved</Th>
              <Th numeric>Available</Th>
              {canEdit ? <Th>Count</Th> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <StockRow key={item.sku} item={item} canEdit={canEdit} />
            ))}
          </tbody>
        </Table>
      </Card>
    </>
  );
}
