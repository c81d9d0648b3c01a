import { Badge } from '@/components/ui/badge';
import type { SagaState } from '@/lib/saga/model';
import { STATE_TONE } from './saga-labels';

export function StateBadge({ state }: { state: SagaState }) {
  return <Badge tone={STATE_TONE[state]}>{state}</Badge>;
}

export function InterventionBadge() {
  return <Badge tone="danger">Needs intervention</Badge>;
}
