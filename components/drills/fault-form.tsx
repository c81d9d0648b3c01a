'use client';

import '@/components/live/zod-without-eval';
import { useActionState } from 'react';
import { setFaultsAction } from '@/server/actions/faults';
import type { FaultSetting } from '@/lib/domain/fault-injection';
import { TASKS } from '@/lib/saga/model';
import { Badge, Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, FieldError, Input } from '@/components/ui/field';
import { Table, Td, Th } from '@/components/ui/table';
import { humanize } from '@/lib/web/format';
import styles from './drills.module.css';

const pct = (share: number) => String(Math.round(share * 1000) / 10);

/**
 * Fault injection per task. Errors come back keyed `items.<index>.<field>`; index follows TASKS,
 * the order the action sends them in.
 */
export function FaultForm({ settings, canEdit }: { settings: FaultSetting[]; canEdit: boolean }) {
  const [state, action, pending] = useActionState(setFaultsAction, null);
  const current = state?.ok ? state.data : settings;
  const errors = state && !state.ok ? state.fieldErrors : {};
  const byTask = new Map(current.map((s) => [s.task, s]));
  const active = current.filter(
    (s) => s.failureRate > 0 || s.transientRate > 0 || s.latencyMs > 0,
  ).length;
  return (
    <form action={action} className={styles.form}>
      <p className={styles.summary} aria-live="polite">
        {active === 0 ? (
          <Badge tone="success">No faults injected</Badge>
        ) : (
          <Badge tone="warning">{`Faults active on ${active} task${active === 1 ? '' : 's'}`}</Badge>
        )}
      </p>
      <Table caption="Fault injection per task">
        <thead>
          <tr>
            <Th>Task</Th>
            <Th>Business failure %</Th>
            <Th>Transient error %</Th>
            <Th>Added latency (ms)</Th>
          </tr>
        </thead>
        <tbody>
          {TASKS.map((task, i) => {
            const s = byTask.get(task);
            const err = (field: string) => errors[`items.${i}.${field}`];
            return (
              <tr key={`${task}-${s?.failureRate}-${s?.transientRate}-${s?.latencyMs}`}>
                <Td>
                  <span className={styles.task}>{humanize(task)}</span>
                  <span className={styles.taskId}>{task}</span>
                </Td>
                {(['failureRate', 'transientRate'] as const).map((field) => (
                  <Td key={field}>
                    <Input
                      name={`${task}.${field}`}
                      type="number"
                      min={0}
                      max={100}
                      step="any"
                      defaultValue={pct(s?.[field] ?? 0)}
                      disabled={!canEdit}
                      aria-label={`${humanize(field)} for ${task}, percent`}
                      aria-invalid={err(field) ? true : undefined}
                      className={styles.number}
                    />
                    <FieldError errors={err(field)} />
                  </Td>
                ))}
                <Td>
                  <Input
                    name={`${task}.latencyMs`}
                    type="number"
                    min={0}
                    max={60000}
                    defaultValue={String(s?.latencyMs ?? 0)}
                    disabled={!canEdit}
                    aria-label={`Added latency for ${task}, milliseconds`}
                    aria-invalid={err('latencyMs') ? true : undefined}
                    className={styles.number}
                  />
                  <FieldError errors={err('latencyMs')} />
                </Td>
              </tr>
            );
          })}
        </tbody>
      </Table>
      {canEdit ? (
        <div className={styles.save}>
          <Field label="Reason (optional)" className={styles.reason}>
            {(c) => (
              <Input
                {...c}
                name="reason"
                maxLength={2000}
                placeholder="e.g. game day: carrier outage drill"
              />
            )}
          </Field>
          <Button type="submit" variant="primary" disabled={pending}>
            {pending ? 'Saving…' : 'Apply faults'}
          </Button>
        </div>
      ) : (
        <Notice tone="info">Only an operator can change fault injection.</Notice>
      )}
      {state && !state.ok ? (
        <Notice tone="danger" role="alert">
          {state.message}
        </Notice>
      ) : null}
      {state?.ok ? (
        <Notice tone="success" role="status">
          Fault settings saved.
        </Notice>
      ) : null}
    </form>
  );
}
