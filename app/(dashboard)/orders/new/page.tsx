import { randomUUID } from 'node:crypto';
import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listCatalog, listInventory } from '@/db/queries/stock';
import { OrderForm, type CatalogOption } from '@/components/orders/order-form';
import { Notice } from '@/components/ui/badge';
import { PageHeader } from '@/components/ui/page-header';
import { canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'New order · RxSaga' };

export default async function NewOrderPage() {
  const principal = await requirePageViewer('/orders/new');
  const db = getDb();
  const [catalog, inventory] = await Promise.all([listCatalog(db), listInventory(db)]);
  const available = new Map(inventory.map((i) => [i.sku, i.available]));
  const options: CatalogOption[] = catalog.map((m) => ({
    ...m,
    available: available.get(m.sku) ?? 0,
  }));
  return (
    <>
      <PageHeader
        title="New order"
        description="Place an order for a patient. Its saga starts at once: you will see it run step by step."
      />
      {canOperate(principal) ? (
        // A key per rendered form: submitting it again (a lost response, a double click, the
        // browser's resend) replays the first order instead of placing a second one.
        <OrderForm catalog={options} idempotencyKey={randomUUID()} />
      ) : (
        <Notice tone="info">
          Placing orders needs an operator. You are signed in as a viewer.
        </Notice>
      )}
    </>
  );
}
