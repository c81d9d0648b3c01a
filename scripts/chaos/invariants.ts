import postgres from 'postgres';
import { compensationPlan } from '@/lib/saga/compensation-plan';
import { EVENT_TYPES, streamKindOf, type EventType } from '@/lib/saga/events';
import type { Step } from '@/lib/saga/model';
import { MUST_NOT_COMPLETE, type TrackedOrder } from './load';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const STEP_OF_EVENT: Record<string, Step> = {
  'order.created': 'create-order',
  'order.prescription_created': 'create-prescription',
  'order.inventory_reserved': 'reserve-inventory',
  'order.shipment_initiated': 'initiate-shipment',
};
/**
 * Facts that happen at most once in a saga: every order event (a step's outcome, an undo, the
 * creation and cancellation) and the saga's start and end. Read from the catalogue, so a new
 * order event is checked without editing this list.
 */
const ONCE: readonly EventType[] = [
  ...EVENT_TYPES.filter((type) => streamKindOf(type) === 'order'),
  'order_fulfillment_saga.started',
  'order_fulfillment_saga.failed',
  'order_fulfillment_saga.completed',
];

const sample = (items: readonly unknown[], n = 3) =>
  items.length === 0
    ? ''
    : ` e.g. ${items
        .slice(0, n)
        .map((i) => (typeof i === 'string' ? i : JSON.stringify(i)))
        .join('; ')}`;

/** Everything that is read from the database alone (no knowledge of what the drill sent). */
export async function checkDatabase(sql: postgres.Sql): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, bad: readonly unknown[], okDetail: string, what: string) =>
    checks.push({
      name,
      ok: bad.length === 0,
      detail: bad.length === 0 ? okDetail : `${bad.length} ${what}${sample(bad)}`,
    });

  const [totals] = await sql<{ sagas: number; events: number; streams: number }[]>`
    select (select count(*)::int from order_fulfillment_sagas) as sagas, (select count(*)::int from events) as events,
           (select count(distinct stream_id)::int from events) as streams`;

  const gaps = await sql<{ stream_id: string }[]>`
    select stream_id from events group by stream_id
    having min(version) <> 1 or max(version) <> count(*) or count(distinct version) <> count(*)`;
  add(
    'event streams are 1..n, no gap or duplicate',
    gaps.map((g) => g.stream_id),
    `${totals!.streams} streams, ${totals!.events} events`,
    'streams',
  );

  const twice = await sql<{ saga: string; type: string; n: number }[]>`
    select metadata->>'correlationId' as saga, type || coalesce(':' || (payload->>'task'), '') as type, count(*)::int as n
    from events
    where type = any (${ONCE}::text[]) or type = 'order_fulfillment_saga.compensation_recorded'
    group by 1, 2 having count(*) > 1`;
  const bothOutcomes = await sql<{ saga: string }[]>`
    select metadata->>'correlationId' as saga from events
    where type in ('order.prescription_created', 'order.prescription_failed',
                   'order.inventory_reserved', 'order.inventory_reservation_failed',
                   'order.shipment_initiated', 'order.shipment_initiation_failed')
    group by 1, split_part(type, '_', 1)
    having count(*) > 1`;
  add(
    'no step or compensation event twice in a saga',
    [
      ...twice.map((t) => `${t.saga} ${t.type}×${t.n}`),
      ...bothOutcomes.map((b) => `${b.saga}: a step both succeeded and failed`),
    ],
    'each at most once',
    'repeats',
  );

  // Compensations: exactly the reverse of the steps that succeeded, after them, all of it for
  // a CANCELLED saga and none for a COMPLETED one.
  const timelines = await sql<
    { saga: string; state: string; types: string[]; tasks: (string | null)[] }[]
  >`
    select s.saga_id as saga, s.state,
      array_agg(e.type order by e.position) as types,
      array_agg(e.payload->>'task' order by e.position) as tasks
    from order_fulfillment_sagas s join events e on e.metadata->>'correlationId' = s.saga_id::text
    group by s.saga_id, s.state`;
  const badComp: string[] = [];
  for (const t of timelines) {
    const succeeded: Step[] = [];
    const comps: string[] = [];
    let stepAfterComp = false;
    t.types.forEach((type, i) => {
      const step = STEP_OF_EVENT[type];
      if (step) {
        if (comps.length > 0) stepAfterComp = true;
        succeeded.push(step);
      }
      if (type === 'order_fulfillment_saga.compensation_recorded') comps.push(t.tasks[i] ?? '?');
    });
    const plan = compensationPlan(succeeded);
    const prefix = plan.slice(0, comps.length);
    if (stepAfterComp) badComp.push(`${t.saga}: a step succeeded after compensation began`);
    else if (comps.join() !== prefix.join())
      badComp.push(`${t.saga}: ran [${comps}] but plan is [${plan}]`);
    else if (t.state === 'CANCELLED' && comps.length !== plan.length)
      badComp.push(`${t.saga}: CANCELLED with [${comps}] of [${plan}]`);
    else if (t.state === 'COMPLETED' && comps.length > 0)
      badComp.push(`${t.saga}: COMPLETED but compensated`);
  }
  add(
    'compensations exactly reverse the succeeded steps',
    badComp,
    `${timelines.length} saga timelines`,
    'sagas',
  );

  const stock = await sql<{ sku: string; on_hand: number; reserved: number; active: number }[]>`
    select i.sku, i.on_hand, i.reserved, coalesce(sum(r.quantity) filter (where r.status = 'active'), 0)::int as active
    from inventory_items i left join inventory_reservations r on r.sku = i.sku
    group by i.sku, i.on_hand, i.reserved order by i.sku`;
  const badStock = stock.filter(
    (s) => s.reserved !== s.active || s.reserved < 0 || s.on_hand < 0 || s.active > s.on_hand,
  );
  add(
    'reserved = sum of active reservations; none negative; none oversold',
    badStock.map((s) => `${s.sku} on_hand ${s.on_hand} reserved ${s.reserved} active ${s.active}`),
    `${stock.length} SKUs, ${stock.reduce((n, s) => n + s.reserved, 0)} units reserved`,
    'SKUs',
  );

  const holding = await sql<{ saga_id: string; state: string; sku: string }[]>`
    select s.saga_id, s.state, r.sku from inventory_reservations r join order_fulfillment_sagas s using (saga_id)
    where (r.status = 'active' and s.state = 'CANCELLED')
       or (r.status <> 'active' and s.state = 'COMPLETED')`;
  const completedWithout = await sql<{ saga_id: string }[]>`
    select s.saga_id from order_fulfillment_sagas s
    where s.state = 'COMPLETED' and (
      not exists (select 1 from inventory_reservations r where r.saga_id = s.saga_id and r.status = 'active')
      or (select count(*) from shipments sh where sh.saga_id = s.saga_id) <> 1
      or not exists (select 1 from prescriptions p where p.saga_id = s.saga_id and p.status = 'active'))`;
  const cancelledWith = await sql<{ saga_id: string }[]>`
    select s.saga_id from order_fulfillment_sagas s
    where s.state = 'CANCELLED' and (
      exists (select 1 from shipments sh where sh.saga_id = s.saga_id)
      or exists (select 1 from prescriptions p where p.saga_id = s.saga_id and p.status = 'active')
      or exists (select 1 from orders o where o.saga_id = s.saga_id and o.status <> 'cancelled'))`;
  add(
    'a cancelled saga holds nothing; a completed one holds all it needs',
    [
      ...holding.map((h) => `${h.saga_id} ${h.state} ${h.sku}`),
      ...completedWithout.map(
        (c) => `${c.saga_id} COMPLETED without reservation/prescription/one shipment`,
      ),
      ...cancelledWith.map(
        (c) => `${c.saga_id} CANCELLED with a shipment, active prescription or live order`,
      ),
    ],
    'reservations, prescriptions, shipments match each outcome',
    'sagas',
  );

  const links = await sql<{ problem: string }[]>`
    select 'saga without order ' || s.saga_id as problem from order_fulfillment_sagas s
      where not exists (select 1 from orders o where o.saga_id = s.saga_id and o.order_id = s.order_id)
    union all
    select 'order without saga ' || o.order_id from orders o
      where not exists (select 1 from order_fulfillment_sagas s where s.saga_id = o.saga_id)
    union all
    select 'order.created count ' || count(*) || ' for ' || (metadata->>'correlationId') from events
      where type = 'order.created' group by metadata->>'correlationId' having count(*) <> 1
    union all
    select 'idempotency key on ' || count(*) || ' orders: ' || idempotency_key from orders
      where idempotency_key is not null group by idempotency_key having count(*) > 1
    union all
    select 'saga without order.created ' || s.saga_id from order_fulfillment_sagas s
      where not exists (select 1 from events e where e.type = 'order.created' and e.metadata->>'correlationId' = s.saga_id::text)`;
  add(
    'one order ↔ one saga ↔ one idempotency key',
    links.map((l) => l.problem),
    `${totals!.sagas} orders, ${totals!.sagas} sagas`,
    'problems',
  );
  return checks;
}

/** What the drill knows: the keys it sent and what the API confirmed. */
export async function checkAgainstClient(
  sql: postgres.Sql,
  orders: readonly TrackedOrder[],
): Promise<Check[]> {
  const rows = await sql<
    {
      order_id: string;
      saga_id: string;
      idempotency_key: string | null;
      state: string;
      failed_step: string | null;
    }[]
  >`
    select o.order_id, o.saga_id, o.idempotency_key, s.state, s.failed_step
    from orders o join order_fulfillment_sagas s using (saga_id)`;
  const byKey = new Map(rows.filter((r) => r.idempotency_key).map((r) => [r.idempotency_key!, r]));
  const byOrder = new Map(rows.map((r) => [r.order_id, r]));
  const lost: string[] = [];
  const dup: string[] = [];
  const broken: string[] = [];
  let confirmed = 0;
  for (const o of orders) {
    const row = byKey.get(o.key);
    if (o.namedOrders.size > 1 || o.namedSagas.size > 1)
      dup.push(`${o.key} answered with ${[...o.namedSagas].join(' and ')}`);
    if (!o.confirmed) continue;
    confirmed += 1;
    if (!row || row.order_id !== o.body.orderId || (o.sagaId && row.saga_id !== o.sagaId))
      lost.push(`${o.key} (${o.body.orderId})`);
    else if (MUST_NOT_COMPLETE.includes(o.scenario) && row.state === 'COMPLETED')
      broken.push(`${o.body.orderId} (${o.scenario}) COMPLETED`);
  }
  const unknown = rows.filter(
    (r) => !r.idempotency_key || !orders.some((o) => o.key === r.idempotency_key),
  );
  void byOrder;
  return [
    {
      name: 'nothing lost: every confirmed order exists, as confirmed',
      ok: lost.length === 0,
      detail:
        lost.length === 0
          ? `${confirmed} confirmed orders found`
          : `${lost.length} missing${sample(lost)}`,
    },
    {
      name: 'nothing duplicated: one order per idempotency key',
      ok: dup.length === 0 && unknown.length === 0 && rows.length <= orders.length,
      detail:
        dup.length + unknown.length === 0
          ? `${rows.length} orders for ${orders.length} keys (${orders.reduce((n, o) => n + o.submissions - 1, 0)} duplicate submissions)`
          : `${dup.length} keys answered with two orders, ${unknown.length} orders with no key sent${sample([...dup, ...unknown.map((u) => u.order_id)])}`,
    },
    {
      name: 'business rules held (no revoked/over-max/00000/00504 order completed)',
      ok: broken.length === 0,
      detail:
        broken.length === 0
          ? 'all failure paths ended as the rules say'
          : `${broken.length}${sample(broken)}`,
    },
  ];
}

export interface JobState {
  sample: string[];
  total: number;
  locked: number;
  lockedByDead: number;
  failedForGood: number;
}

export async function jobState(sql: postgres.Sql, deadSeconds: number): Promise<JobState> {
  const [row] = await sql<Omit<JobState, 'sample'>[]>`
    select count(*)::int as total,
      count(*) filter (where locked_by is not null)::int as locked,
      count(*) filter (where locked_by is not null and not exists (
        select 1 from worker_heartbeats h
        where j.locked_by = any (h.worker_ids) and h.last_seen_at > now() - make_interval(secs => ${deadSeconds})))::int as "lockedByDead",
      count(*) filter (where attempts >= max_attempts)::int as "failedForGood"
    from graphile_worker.jobs j`;
  const left = await sql<{ j: string }[]>`
    select task_identifier || ' key=' || coalesce(key, 'null') || ' attempts=' || attempts || '/' || max_attempts
      || ' locked=' || coalesce(locked_by, '-') || ' err=' || coalesce(left(last_error, 60), '-') as j
    from graphile_worker.jobs limit 3`;
  return { ...row!, sample: left.map((l) => l.j) };
}

const PROJECTIONS: Record<string, string> = {
  order_fulfillment_sagas: 'saga_id',
  orders: 'order_id',
  prescriptions: 'prescription_id',
  inventory_reservations: 'saga_id, sku',
  shipments: 'shipment_id',
  inventory_items: 'sku',
};

/** Every projection row, as text, in key order: equal text means equal tables. */
export async function projectionDigest(url: string): Promise<Map<string, string[]>> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const out = new Map<string, string[]>();
    for (const [table, key] of Object.entries(PROJECTIONS)) {
      // updated_at of inventory_items is a wall-clock stamp, not derived from events.
      const row =
        table === 'inventory_items'
          ? `json_build_object('sku', sku, 'on_hand', on_hand, 'reserved', reserved)`
          : 'row_to_json(t)';
      const rows = await sql.unsafe<{ r: string }[]>(
        `select ${row}::text as r from ${table} t order by ${key}`,
      );
      out.set(
        table,
        rows.map((r) => r.r),
      );
    }
    return out;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function compareDigests(
  live: Map<string, string[]>,
  replayed: Map<string, string[]>,
): string[] {
  const diffs: string[] = [];
  for (const [table, rows] of live) {
    const other = replayed.get(table) ?? [];
    if (rows.length !== other.length) {
      diffs.push(`${table}: ${rows.length} rows live, ${other.length} replayed`);
      continue;
    }
    const i = rows.findIndex((r, j) => r !== other[j]);
    if (i >= 0)
      diffs.push(
        `${table} row ${i}: live ${rows[i]!.slice(0, 200)} ≠ replayed ${other[i]!.slice(0, 200)}`,
      );
  }
  return diffs;
}
