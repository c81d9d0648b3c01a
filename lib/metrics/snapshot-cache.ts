/**
 * A value loaded at most once per `maxAgeMs`, with at most one load in flight: concurrent
 * callers (several Prometheus servers, a scrape racing a dashboard) share the same promise, and
 * callers within `maxAgeMs` of a load get its result. A failed load is not kept: the next caller
 * tries again. Pure (the clock is passed in), so the unit tests drive it deterministically.
 */
export function singleFlight<T>(
  load: () => Promise<T>,
  maxAgeMs: number,
  now: () => number = Date.now,
): () => Promise<T> {
  let fresh: { value: T; loadedAt: number } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (fresh && now() - fresh.loadedAt < maxAgeMs) return Promise.resolve(fresh.value);
    inFlight ??= load().then(
      (value) => {
        fresh = { value, loadedAt: now() };
        inFlight = undefined;
        return value;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw error;
      },
    );
    return inFlight;
  };
}
