/** React Query keys of live data, in one place so invalidation and queries agree. */
export const liveKeys = {
  saga: (sagaId: string) => ['saga', sagaId] as const,
  sagaList: (query: string) => ['sagas', query] as const,
  stats: (window: string) => ['stats', window] as const,
  interventions: ['interventions'] as const,
  pauses: ['pauses'] as const,
  tasks: ['tasks'] as const,
  failureGroups: ['failure-groups'] as const,
  bulkOperations: ['bulk-operations'] as const,
  bulkOperation: (operationId: string) => ['bulk-operations', operationId] as const,
  /** Everything that summarises many sagas: refreshed (throttled) on any change. */
  lists: [
    ['sagas'],
    ['stats'],
    ['interventions'],
    ['inventory'],
    ['tasks'],
    ['failure-groups'],
    ['bulk-operations'],
  ] as const,
};

/** Fetches JSON from our API; a non-2xx answer throws with the API's error message. */
export async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    throw new Error(body?.error ?? `${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}
