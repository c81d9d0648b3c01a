import { Skeleton } from '@/components/ui/skeleton';

/** Shown while a dashboard page reads its data on the server. */
export default function Loading() {
  return (
    <div role="status" aria-label="Loading" style={{ display: 'grid', gap: '1rem' }}>
      <Skeleton width="14rem" height="1.8rem" />
      <Skeleton width="28rem" height="1rem" />
      <div
        style={{
          display: 'grid',
          gridTemplateColumns: 'repeat(auto-fit, minmax(11rem, 1fr))',
          gap: '0.75rem',
        }}
      >
        {Array.from({ length: 6 }, (_, i) => (
          <Skeleton key={i} height="6rem" />
        ))}
      </div>
      <Skeleton height="16rem" />
    </div>
  );
}
