'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useTransition } from 'react';
import { retryDeliveryAction, sendTestAlertAction } from '@/server/actions/alerts';
import type { DeliveryView } from '@/db/alerts';
import { fetchJson } from '@/components/live/query-keys';
import { Badge, Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyRow, Table, Td, Th } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { ALERT_RULE_INFO, isAlertRule } from '@/lib/alerts/rules';
import { formatTimestamp } from '@/lib/web/format';
import { ALERT_POLL_MS, alertKeys, type AlertItem } from './alert-queries';
import styles from './alerts.module.css';

const ruleTitle = (rule: string) => (isAlertRule(rule) ? ALERT_RULE_INFO[rule].title : rule);

/** Firing alerts, history, and the webhook outbox with retry and a test message. */
export function AlertsView({
  initialAlerts,
  initialDeliveries,
  canOperate,
  canSendTest,
  webhooks,
}: {
  initialAlerts: AlertItem[];
  initialDeliveries: DeliveryView[];
  canOperate: boolean;
  canSendTest: boolean;
  webhooks: string[];
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [pending, startTransition] = useTransition();
  const { data: alerts } = useQuery({
    queryKey: alertKeys.alerts,
    queryFn: () => fetchJson<{ items: AlertItem[] }>('/api/alerts').then((r) => r.items),
    initialData: initialAlerts,
    refetchInterval: ALERT_POLL_MS,
  });
  const { data: deliveries } = useQuery({
    queryKey: alertKeys.deliveries,
    queryFn: () =>
      fetchJson<{ items: DeliveryView[] }>('/api/alerts/deliveries').then((r) => r.items),
    initialData: initialDeliveries,
    refetchInterval: ALERT_POLL_MS,
  });
  const firing = alerts.filter((a) => a.status === 'firing');
  const history = alerts.filter((a) => a.status === 'resolved');
  const refresh = () => void queryClient.invalidateQueries({ queryKey: alertKeys.alerts });

  function sendTest() {
    startTransition(async () => {
      const result = await sendTestAlertAction();
      if (result.ok) toast(`Test alert queued for ${result.data.deliveries} webhook(s)`, 'success');
      else toast(result.message, 'danger');
      refresh();
    });
  }

  function retry(deliveryId: string) {
    startTransition(async () => {
      const result = await retryDeliveryAction(deliveryId);
      if (result.ok) toast('Sending it again now', 'success');
      else toast(result.message, 'danger');
      refresh();
    });
  }

  return (
    <>
      <Card title="Firing">
        <Table caption="Firing alerts">
          <thead>
            <tr>
              <Th>Alert</Th>
              <Th>What holds</Th>
              <Th>Since</Th>
              <Th>Where to look</Th>
            </tr>
          </thead>
          <tbody>
            {firing.length === 0 ? (
              <EmptyRow colSpan={4}>Nothing is firing.</EmptyRow>
            ) : (
              firing.map((a) => (
                <tr key={a.alertId} data-alert-rule={a.rule}>
                  <Td>
                    <Badge
                      tone={
                        isAlertRule(a.rule) && ALERT_RULE_INFO[a.rule].severity === 'critical'
                          ? 'danger'
                          : 'warning'
                      }
                    >
                      {ruleTitle(a.rule)}
                    </Badge>
                  </Td>
                  <Td>{a.summary}</Td>
                  <Td>{formatTimestamp(a.startedAt)}</Td>
                  <Td>
                    {isAlertRule(a.rule) ? (
                      <Link href={ALERT_RULE_INFO[a.rule].href}>
                        {ALERT_RULE_INFO[a.rule].cause}
                      </Link>
                    ) : null}
                  </Td>
                </tr>
              ))
            )}
          </tbody>
        </Table>
      </Card>

      <Card title="History">
        <Table caption="Resolved alerts, newest first">
          <thead>
            <tr>
              <Th>Alert</Th>
              <Th>What held</Th>
              <Th>Fired</Th>
              <Th>Resolved</Th>
            </tr>
          </thead>
          <tbody>
            {history.length === 0 ? (
              <EmptyRow colSpan={4}>No resolved alerts yet.</EmptyRow>
            ) : (
              history.map((a) => (
                <tr key={a.alertId}>
                  <Td>{ruleTitle(a.rule)}</Td>
                  <Td>{a.summary}</Td>
                  <Td>{formatTimestamp(a.startedAt)}</Td>
                  <Td>{a.resolvedAt ? formatTimestamp(a.resolvedAt) : '—'}</Td>
                </tr>
              ))
            )}
          </tbody>
        </Table>
      </Card>

      <Card
        title="Webhook deliveries"
        actions={
          canSendTest ? (
            <Button onClick={sendTest} disabled={pending || webhooks.length === 0}>
              Send a test alert
            </Button>
          ) : null
        }
      >
        {webhooks.length === 0 ? (
          <Notice>No webhook is configured: set RXSAGA_ALERT_WEBHOOK_URLS to send alerts.</Notice>
        ) : (
          <p>Webhooks: {webhooks.join(', ')}</p>
        )}
        <Table caption="Webhook deliveries: undelivered first">
          <thead>
            <tr>
              <Th>Alert</Th>
              <Th>Change</Th>
              <Th>Webhook</Th>
              <Th>Status</Th>
              <Th numeric>Attempts</Th>
              <Th>Last error</Th>
              <Th>Queued</Th>
              {canOperate ? <Th>Action</Th> : null}
            </tr>
          </thead>
          <tbody>
            {deliveries.length === 0 ? (
              <EmptyRow colSpan={canOperate ? 8 : 7}>No messages yet.</EmptyRow>
            ) : (
              deliveries.map((d) => (
                <tr key={d.deliveryId} data-delivery-status={d.status}>
                  <Td>{ruleTitle(d.rule)}</Td>
                  <Td>{d.change}</Td>
                  <Td>{d.target}</Td>
                  <Td>
                    <Badge
                      tone={
                        d.status === 'delivered'
                          ? 'success'
                          : d.status === 'failing'
                            ? 'danger'
                            : 'info'
                      }
                    >
                      {d.status === 'failing' && d.nextAttemptAt
                        ? `failing, next try ${formatTimestamp(d.nextAttemptAt)}`
                        : d.status}
                    </Badge>
                  </Td>
                  <Td numeric>{d.attempts}</Td>
                  <Td className={styles.error}>{d.lastError ?? '—'}</Td>
                  <Td>{formatTimestamp(d.createdAt)}</Td>
                  {canOperate ? (
                    <Td>
                      {d.status !== 'delivered' ? (
                        <Button size="small" onClick={() => retry(d.deliveryId)} disabled={pending}>
                          Retry now
                        </Button>
                      ) : null}
                    </Td>
                  ) : null}
                </tr>
              ))
            )}
          </tbody>
        </Table>
      </Card>
    </>
  );
}
