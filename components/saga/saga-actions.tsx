'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { cancelSagaAction, retrySagaAction } from '@/server/actions/sagas';
import { liveKeys } from '@/components/live/query-keys';
import { Button } from '@/components/ui/button';
import { ConfirmWithReason } from '@/components/ui/confirm-with-reason';
import { useToast } from '@/components/ui/toast';
import type { AllowedActions } from './saga-view-model';

/** Retry / Cancel for an operator, each behind a confirmation that asks why. */
export function SagaActions({
  sagaId,
  orderId,
  allowed,
}: {
  sagaId: string;
  orderId: string;
  allowed: AllowedActions;
}) {
  const [dialog, setDialog] = useState<'retry' | 'cancel' | null>(null);
  const queryClient = useQueryClient();
  const toast = useToast();

  async function run(kind: 'retry' | 'cancel', reason: string): Promise<string | null> {
    const result =
      kind === 'retry'
        ? await retrySagaAction(sagaId, reason)
        : await cancelSagaAction(sagaId, reason);
    if (!result.ok) return result.fieldErrors.reason?.join(' ') ?? result.message;
    toast(
      kind === 'retry'
        ? `Retry requested for ${orderId}`
        : `Cancel requested for ${orderId}: compensating`,
    );
    await queryClient.invalidateQueries({ queryKey: liveKeys.saga(sagaId) });
    return null;
  }

  if (!allowed.retry && !allowed.cancel) return null;
  return (
    <div style={{ display: 'flex', gap: '0.5rem', flexWrap: 'wrap' }}>
      {allowed.retry ? (
        <Button variant="primary" onClick={() => setDialog('retry')}>
          Retry
        </Button>
      ) : null}
      {allowed.cancel ? (
        <Button variant="danger" onClick={() => setDialog('cancel')}>
          Cancel saga
        </Button>
      ) : null}
      <ConfirmWithReason
        open={dialog === 'retry'}
        title="Retry this saga?"
        description="The step or compensation it is stuck on runs again with fresh attempts."
        confirmLabel="Retry"
        onConfirm={(reason) => run('retry', reason)}
        onClose={() => setDialog(null)}
      />
      <ConfirmWithReason
        open={dialog === 'cancel'}
        title="Cancel this saga?"
        description="The order is stopped and what was done so far is undone, newest first. This cannot be reversed."
        confirmLabel="Cancel saga"
        confirmVariant="danger"
        onConfirm={(reason) => run('cancel', reason)}
        onClose={() => setDialog(null)}
      />
    </div>
  );
}
