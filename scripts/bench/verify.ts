import type postgres from 'postgres';
import { EXPECTED, type Outcome } from './orders';

/**
 * Correctness of a run, checked from the database after it: every saga reached the end its
 * order was built for, with exactly the events of that path (no step recorded twice, no
 * stream gap), every domain effect exactly once, stock consistent, and no job left behind.
 */
export interface Correctness {
  ok: boolean;
  sagas: number;
  byState: Record<string, number>;
  problems: string[];
}

export async function verifyRun(
  sql: postgres.Sql,
  expected: ReadonlyMap<string, Outcome>,
  options: { checkEvents?: boolean } = {},
): Promise<Correctness> {
  const problems: string[] = [];
  const note = (what: string, items: readonly unknown[]) => {
    if (items.length > 0)
      problems.push(`${what}: ${items.length} (e.g. ${JSON.stringify(items.slice(0, 3))})`);
  };
  const rows = await sql<
    {
      order_id: string;
      state: string;
      failed_step: string | null;
      needs_intervention: boolean;
      events: number;
      compensations: number;
    }[]
  >`
    select s.order_id, s.state, s.failed_step, s.needs_intervention, cardinality(s.compensations_done) as compensations,
      (select count(*)::int from events e
        where e.stream_id in ('order_fulfillment_saga-' || s.saga_id, 'order-' || s.order_id)) as events
    from order_fulfillment_sagas s`;
  const byState: Record<string, number> = {};
  const seen = new Set<string>();
  const wrong: unknown[] = [];
  for (const r of rows) {
    byState[r.state] = (byState[r.state] ?? 0) + 1;
    seen.add(r.order_id);
    const outcome = expected.get(r.order_id);
    if (!outcome) continue; // not part of this run
    const want = EXPECTED[outcome];
    const eventsOk = options.checkEvents === false || r.events === want.events;
    if (
      r.state !== want.state ||
      r.failed_step !== want.failedStep ||
      r.needs_intervention ||
      !eventsOk ||
      r.compensations !== want.compensations
    ) {
      wrong.push({
        orderId: r.order_id,
        outcome,
        state: r.state,
        failedStep: r.failed_step,
        events: r.events,
        needsIntervention: r.needs_intervention,
      });
    }
  }
  note('sagas not ending as their order implies', wrong);
  note(
    'orders without a saga',
    [...expected.keys()].filter((k) => !seen.has(k)),
  );

  note(
    'step events recorded more than once',
    await sql`
      select stream_id, type, coalesce(payload->>'to', payload->>'task', '') as what, count(*)::int as n from events
      where type <> 'order_fulfillment_saga.attempt_failed'
      group by 1, 2, 3 having count(*) > 1 limit 5`,
  );
  note(
    'streams whose versions are not 1..n',
    await sql`
      select stream_id from events group by stream_id
      having min(version) <> 1 or max(version) <> count(*) limit 5`,
  );
  note(
    'domain effects applied twice or missing',
    await sql`
      select s.order_id,
        (select count(*)::int from prescriptions p where p.order_id = s.order_id) as prescriptions,
        (select count(*)::int from shipments h where h.order_id = s.order_id) as shipments
      from order_fulfillment_sagas s
      where (select count(*) from prescriptions p where p.order_id = s.order_id) > 1
         or (select count(*) from shipments h where h.order_id = s.order_id) > 1
         or (s.state = 'COMPLETED' and not exists (select 1 from shipments h where h.order_id = s.order_id))
      limit 5`,
  );
  note(
    'completed sagas whose reservations are not active',
    await sql`
      select s.saga_id from order_fulfillment_sagas s
      where s.state = 'COMPLETED' and not exists (select 1 from inventory_reservations r where r.saga_id = s.saga_id and r.status = 'active')
      limit 5`,
  );
  note(
    'cancelled sagas still holding stock',
    await sql`
      select r.saga_id from inventory_reservations r join order_fulfillment_sagas s using (saga_id)
      where s.state = 'CANCELLED' and r.status = 'active' limit 5`,
  );
  note(
    'SKUs whose reserved differs from their active reservations',
    await sql`
      select i.sku, i.reserved, coalesce(sum(r.quantity), 0)::int as active from inventory_items i
      left join inventory_reservations r on r.sku = i.sku and r.status = 'active'
      group by i.sku, i.reserved having i.reserved <> coalesce(sum(r.quantity), 0)`,
  );
  note(
    'jobs left in the queue',
    await sql`select id, task_identifier, key, attempts, last_error from graphile_worker.jobs limit 5`,
  );
  return { ok: problems.length === 0, sagas: rows.length, byState, problems };
}
