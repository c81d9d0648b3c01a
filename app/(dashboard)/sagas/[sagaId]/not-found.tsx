import { LinkButton } from '@/components/ui/button';
import { PageHeader } from '@/components/ui/page-header';

export default function SagaNotFound() {
  return (
    <>
      <PageHeader
        title="Saga not found"
        description="No saga has this id. It may have been mistyped, or it belongs to another installation."
      />
      <LinkButton href="/sagas" variant="primary">
        Back to sagas
      </LinkButton>
    </>
  );
}
