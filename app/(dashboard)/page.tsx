import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { getStats, STATS_WINDOWS, statsQuerySchema } from '@/db/queries/stats';
import { OverviewLive } from '@/components/overview/overview-live';
import { PageHeader } from '@/components/ui/page-header';
import { SegmentedLinks } from '@/components/ui/segmented';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Overview · RxSaga' };

const LABEL = { '1h': '1 hour', '24h': '24 hours', '7d': '7 days', all: 'All time' } as const;

export default async function OverviewPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requirePageViewer('/');
  const parsed = statsQuerySchema.safeParse(await searchParams);
  const window = parsed.success ? parsed.data.window : '24h';
  const stats = await getStats(getDb(), window);
  return (
    <>
      <PageHeader
        title="Overview"
        description="How order fulfillment is going: sagas started in the chosen window."
        actions={
          <SegmentedLinks
            label="Time window"
            items={STATS_WINDOWS.map((w) => ({
              href: w === '24h' ? '/' : `/?window=${w}`,
              label: LABEL[w],
              current: w === window,
            }))}
          />
        }
      />
      <OverviewLive key={window} initial={stats} />
    </>
  );
}
