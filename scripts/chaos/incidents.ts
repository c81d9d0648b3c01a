import type postgres from 'postgres';
import type { Check } from './invariants';
import { sleep, type Rng } from './rng';

/**
 * The incident tooling racing the workers (docs/incidents.md): while the load runs, a step is
 * paused for a few seconds and resumed, again and again, and bulk retries of whatever is
 * flagged, or bulk cancels of the sagas flagged at a step, start while the workers (and the
 * drill's own operator) act on the same sagas. When
 * the load ends every pause is lifted and every operation finishes, so the drill's own
 * invariants (everything settles, nothing twice, replay equals the projections) cover them;
 * checks() adds the tooling's own.
 */
export interface IncidentDrill {
  /** Resolves once the load is over, nothing is paused and no operation runs. */
  done: Promise<void>;
  record: { pauses: number; resumes: number; operations: number; errors: number };
  checks: (sql: postgres.Sql) => Promise<Check[]>;
}

const PAUSABLE = ['create-prescription', 'reserve-inventory', 'initiate-shipment'] as const;
const operator = { actor: 'chaos-incident-drill', role: 'operator' as const };

export function startIncidentDrill(o: {
  url: string;
  rng: Rng;
  isOver: () => boolean;
  log: (m: string) => void;
}): IncidentDrill {
  const record = { pauses: 0, resumes: 0, operations: 0, errors: 0 };
  const operationIds: string[] = [];
  const done = (async () => {
    const [{ connect }, { pauseTask, resumeTask }, { startBulkOperation }, { getBulkOperation }] =
      await Promise.all([
        import('@/db/client'),
        import('@/server/commands/task-pause'),
        import('@/server/commands/bulk-operation'),
        import('@/db/bulk-operations'),
      ]);
    const conn = connect(o.url, 4);
    // The drill restarts PostgreSQL and kills connections: every call is tried until it goes through.
    const attempt = async <T>(what: string, fn: () => Promise<T>, untilOk = false) => {
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          record.errors++;
          if (!untilOk) {
            o.log(
              `incidents: ${what} failed (${err instanceof Error ? err.message : String(err)})`,
            );
            return undefined;
          }
          await sleep(1000);
        }
      }
    };
    try {
      while (!o.isOver()) {
        await sleep(o.rng.int(4_000, 9_000));
        if (o.isOver()) break;
        if (o.rng.chance(0.6)) {
          const task = o.rng.pick(PAUSABLE);
          if (
            await attempt('pause', () =>
              pauseTask(conn.db, task, { reason: 'chaos: carrier down' }, operator),
            )
          )
            record.pauses++;
          await sleep(o.rng.int(1_000, 6_000));
          await attempt(
            'resume',
            () => resumeTask(conn.db, task, { reason: 'chaos: back' }, operator),
            true,
          );
          record.resumes++;
        } else {
          // A bulk cancel of the sagas flagged at one step (compensated in its batches, racing
          // the workers, the pauses and the compensations' faults), or a bulk retry of all.
          const cancelAt = o.rng.chance(0.5) ? o.rng.pick(PAUSABLE) : null;
          const answer = await attempt(`bulk ${cancelAt ? 'cancel' : 'retry'}`, () =>
            startBulkOperation(
              conn.db,
              cancelAt
                ? {
                    action: 'cancel',
                    filter: { needsIntervention: true, task: cancelAt },
                    reason: 'chaos: give up on the flagged',
                  }
                : {
                    action: 'retry',
                    filter: { needsIntervention: true },
                    reason: 'chaos: retry the flagged',
                  },
              operator,
            ),
          );
          if (answer && !answer.dryRun) {
            record.operations++;
            operationIds.push(answer.operationId);
          }
        }
      }
      for (const task of PAUSABLE) {
        await attempt(
          'resume',
          () => resumeTask(conn.db, task, { reason: 'chaos: end' }, operator),
          true,
        );
      }
      for (const id of operationIds) {
        for (let i = 0; i < 240; i++) {
          const op = await attempt('operation status', () => getBulkOperation(conn.db, id));
          if (op && op.status !== 'running') break;
          await sleep(500);
        }
      }
      o.log(
        `incidents: ${record.pauses} pauses, ${record.resumes} resumes, ${record.operations} bulk operations, ${record.errors} failed calls (retried)`,
      );
    } finally {
      await conn.sql.end({ timeout: 5 });
    }
  })();

  const checks = async (sql: postgres.Sql): Promise<Check[]> => {
    const [state] = await sql<
      { paused: number; held: number; running: number; unfinished: number }[]
    >`
      select (select count(*)::int from task_pauses) as paused,
        (select count(*)::int from paused_sagas p join order_fulfillment_sagas s
          on s.saga_id = p.saga_id and s.current_task = p.task) as held,
        (select count(*)::int from bulk_operations where status = 'running') as running,
        (select count(*)::int from bulk_operation_items i join bulk_operations b using (operation_id)
          where b.status = 'done' and i.outcome is null) as unfinished`;
    const [twice] = await sql<{ n: number }[]>`
      select count(*)::int as n from (
        select metadata->>'operationId', metadata->>'correlationId' from events
        where metadata ? 'operationId'
          and type in ('order_fulfillment_saga.retry_requested', 'order_fulfillment_saga.cancel_requested')
        group by 1, 2 having count(*) > 1) d`;
    const [mismatch] = await sql<{ n: number }[]>`
      select count(*)::int as n from bulk_operation_items i
      where (i.outcome = 'succeeded') <> exists (
        select 1 from events e where e.metadata->>'operationId' = i.operation_id::text
          and e.metadata->>'correlationId' = i.saga_id::text)`;
    return [
      {
        name: 'pauses: every pause lifted, no saga left waiting at a task',
        ok: state!.paused === 0 && state!.held === 0,
        detail: `${record.pauses} pauses and ${record.resumes} resumes raced the workers; ${state!.paused} still paused, ${state!.held} sagas still held`,
      },
      {
        name: 'bulk operations: each ended, each saga acted on at most once per operation, outcome iff event',
        ok: state!.running === 0 && state!.unfinished === 0 && twice!.n === 0 && mismatch!.n === 0,
        detail: `${record.operations} operations; ${state!.running} still running, ${state!.unfinished} done with sagas left, ${twice!.n} sagas acted on twice by one operation, ${mismatch!.n} outcomes without their event (or the reverse)`,
      },
    ];
  };
  return { done, record, checks };
}
