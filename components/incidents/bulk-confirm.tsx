'use client';

import { useEffect, useState } from 'react';
import { previewBulkOperationAction, startBulkOperationAction } from '@/server/actions/operations';
import { ConfirmWithReason } from '@/components/ui/confirm-with-reason';
import type { BulkFilter } from '@/lib/incidents/bulk-operation-input';
import { formatCount } from '@/lib/web/format';

export interface BulkRequest {
  action: 'retry' | 'cancel';
  filter: BulkFilter;
  /** What the operator picked, in words: "the group …", "3 selected sagas". */
  what: string;
}

const VERB = { retry: 'Retry', cancel: 'Cancel' } as const;
const EFFECT = {
  retry: 'Each saga re-runs the step or compensation it is stuck on, with fresh attempts.',
  cancel:
    'Each saga is stopped and what it did is undone, newest first. Sagas already rolling back are skipped: retry those.',
} as const;

/**
 * The confirmation of a bulk operation: a dry run first, so the dialog says how many sagas the
 * operation will act on, then the reason; confirming starts it (it runs in the background).
 */
export function BulkConfirm({
  request,
  onStarted,
  onClose,
}: {
  request: BulkRequest | null;
  onStarted: (operationId: string) => void;
  onClose: () => void;
}) {
  // The dry run's answer, kept with the request it answers: a new request shows "counting".
  const [preview, setPreview] = useState<{
    request: BulkRequest;
    matched: number | null;
    error: string | null;
  } | null>(null);
  useEffect(() => {
    let live = true;
    if (request) {
      void previewBulkOperationAction(request.action, request.filter).then((result) => {
        if (!live) return;
        setPreview(
          result.ok
            ? { request, matched: result.data.matched, error: null }
            : { request, matched: null, error: result.message },
        );
      });
    }
    return () => {
      live = false;
    };
  }, [request]);
  const current = preview && preview.request === request ? preview : null;
  const matched = current?.matched ?? null;
  const previewError = current?.error ?? null;

  const verb = request ? VERB[request.action] : '';
  const count = matched === null ? '' : ` ${formatCount(matched)} saga${matched === 1 ? '' : 's'}`;
  return (
    <ConfirmWithReason
      open={request !== null}
      title={request ? `${verb} ${request.what}?` : ''}
      description={
        request ? (
          <>
            <p data-dry-run-matched={matched ?? undefined}>
              {previewError
                ? `Could not count the sagas: ${previewError}`
                : matched === null
                  ? 'Counting the sagas this matches…'
                  : `This matches${count} now. Sagas that match later are not touched.`}
            </p>
            <p>{EFFECT[request.action]}</p>
          </>
        ) : null
      }
      confirmLabel={`${verb}${count}`}
      confirmVariant={request?.action === 'cancel' ? 'danger' : 'primary'}
      onConfirm={async (reason) => {
        if (!request) return null;
        if (matched === 0) return 'Nothing matches: there is nothing to do.';
        const result = await startBulkOperationAction(request.action, request.filter, reason);
        if (!result.ok) return result.message;
        onStarted(result.data.operationId);
        return null;
      }}
      onClose={onClose}
    />
  );
}
