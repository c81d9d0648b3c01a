import { Notice } from '@/components/ui/badge';
import type { ArchivedLocation } from '@/lib/errors';
import { formatTimestamp, shortId } from '@/lib/web/format';

/** Where an archived saga went and how to bring it back (the saga page and the search). */
export function ArchivedSagaNotice({ archived }: { archived: ArchivedLocation }) {
  return (
    <Notice tone="info" role="status">
      Saga <code>{shortId(archived.sagaId)}</code> (order <code>{archived.orderId}</code>,{' '}
      {archived.state.toLowerCase()}, {formatTimestamp(archived.startedAt)} –{' '}
      {formatTimestamp(archived.completedAt)}) is archived in <code>{archived.archiveFile}</code>{' '}
      since {formatTimestamp(archived.archivedAt)}. To see it here again:{' '}
      <code>npm run restore -- {archived.sagaId}</code>
    </Notice>
  );
}
