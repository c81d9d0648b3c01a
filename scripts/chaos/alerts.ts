import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type postgres from 'postgres';
import type { Check } from './invariants';
import { sleep } from './rng';

/**
 * The drill's alert check (docs/alerts.md): a webhook receiver in the drill process gets every
 * alert change of the run from workers and the web app while they are killed and restarted; a
 * third of the messages are refused once with a 500 to exercise retries. At the end every alert
 * change in the database must have reached the receiver, signed, exactly once per delivery id.
 */

const SECRET = 'chaos-drill-webhook-secret';

interface Receipt {
  deliveryId: string;
  status: number;
  signed: boolean;
}

export class AlertDrill {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly receipts: Receipt[],
  ) {}

  static async start(): Promise<AlertDrill> {
    const receipts: Receipt[] = [];
    const refusedOnce = new Set<string>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['x-rxsaga-delivery'] ?? '');
        const signed =
          req.headers['x-rxsaga-signature'] ===
          `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
        // Refuse a third of the messages once (by id), so retries are part of the drill.
        const refuse = parseInt(id.slice(0, 2), 16) % 3 === 0 && !refusedOnce.has(id);
        if (refuse) refusedOnce.add(id);
        const status = refuse ? 500 : 200;
        receipts.push({ deliveryId: id, status, signed });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new AlertDrill(server, `http://127.0.0.1:${port}/alerts`, receipts);
  }

  /** For every web and worker process: small thresholds, so the drill's flagged sagas alert. */
  get env(): Record<string, string> {
    return {
      RXSAGA_ALERT_WEBHOOK_URLS: this.url,
      RXSAGA_ALERT_WEBHOOK_SECRET: SECRET,
      RXSAGA_ALERT_EVALUATE_SECONDS: '2',
      RXSAGA_ALERT_INTERVENTIONS: '1',
      RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS: '0',
    };
  }

  /**
   * Once every saga is finished: waits for an evaluation that saw that (so alerts about the
   * flagged sagas resolve), then for the outbox to drain, before the processes are stopped.
   */
  async settle(sql: postgres.Sql, timeoutMs = 90_000): Promise<void> {
    const [{ now } = { now: new Date() }] = await sql<{ now: Date }[]>`select now()`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [row] = await sql<{ evaluated: boolean; pending: number }[]>`
        select (select last_evaluated_at > ${now} from alert_evaluator) as evaluated,
          (select count(*)::int from alert_deliveries where status = 'pending') as pending`.catch(
        () => [{ evaluated: false, pending: -1 }],
      );
      if (row?.evaluated && row.pending === 0) return;
      await sleep(500);
    }
  }

  async checks(sql: postgres.Sql, sigkills: number): Promise<Check[]> {
    const changes = await sql<{ delivery_id: string; status: string; change: string }[]>`
      select d.delivery_id, d.status, d.change from alert_deliveries d`;
    const [counts] = await sql<{ changes: number; alerts: number }[]>`
      select (count(*) + count(*) filter (where status = 'resolved'))::int as changes,
        count(*)::int as alerts from alerts`;
    const accepted = new Map<string, number>();
    for (const r of this.receipts)
      if (r.status === 200) accepted.set(r.deliveryId, (accepted.get(r.deliveryId) ?? 0) + 1);
    const missing = changes.filter((c) => !accepted.has(c.delivery_id));
    const undelivered = changes.filter((c) => c.status !== 'delivered');
    const resent = [...accepted.values()].filter((n) => n > 1).length;
    const unsigned = this.receipts.filter((r) => !r.signed).length;
    const refused = this.receipts.filter((r) => r.status !== 200).length;
    return [
      {
        name: 'every alert change was delivered to the webhook, signed, exactly once per delivery id',
        ok:
          changes.length === counts!.changes &&
          missing.length === 0 &&
          undelivered.length === 0 &&
          unsigned === 0 &&
          // A resend is only possible for a sender killed between the 2xx and recording it.
          resent <= sigkills,
        detail:
          `${counts!.alerts} alerts, ${counts!.changes} changes, ${changes.length} outbox rows; ` +
          `${accepted.size} accepted, ${missing.length} never accepted, ${undelivered.length} not recorded as delivered; ` +
          `${refused} refused with 500 and retried; ${resent} resent after a crash (≤ ${sigkills} SIGKILLs); ${unsigned} unsigned`,
      },
    ];
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
