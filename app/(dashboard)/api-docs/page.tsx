import type { Metadata } from 'next';
import { ApiReference } from '@/components/api-reference/api-reference';
import { PageHeader } from '@/components/ui/page-header';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'API reference · RxSaga' };

export default async function ApiDocsPage() {
  await requirePageViewer('/api-docs');
  return (
    <>
      <PageHeader
        title="API reference"
        description={
          <>
            Every route of the HTTP API, generated from the schemas the routes use. The document
            itself: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).
          </>
        }
      />
      <ApiReference specUrl="/api/openapi.json" />
    </>
  );
}
