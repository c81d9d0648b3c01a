/**
 * A client's retry budget (as in Finagle's or gRPC's retry throttling): retries may add at most
 * `ratio` of the first attempts' traffic, plus a small floor per second so a client with no new
 * work can still finish what it has. Without one, every failure under overload is sent again
 * and again, the retries become most of the load, and the server never catches up (the retry
 * storm of docs/chaos.md). A retry the budget refuses waits, it is not dropped: the caller asks
 * again after its backoff.
 */
export class RetryBudget {
  private tokens: number;
  private last: number;
  granted = 0;
  refused = 0;

  constructor(
    private readonly ratio = 0.2,
    private readonly floorPerSecond = 2,
    private readonly maxTokens = 20,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = maxTokens;
    this.last = now();
  }

  /** Every first attempt earns `ratio` of a retry. */
  deposit(): void {
    this.refill();
    this.tokens = Math.min(this.maxTokens, this.tokens + this.ratio);
  }

  /** True when a retry may be sent now (and spends one). */
  tryRetry(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.granted += 1;
      return true;
    }
    this.refused += 1;
    return false;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(
      this.maxTokens,
      this.tokens + ((t - this.last) / 1000) * this.floorPerSecond,
    );
    this.last = t;
  }
}

/**
 * Exponential backoff with full jitter (uniform in [0, min(cap, base·2^attempt)]), never sooner
 * than the server's Retry-After when it sent one.
 */
export function backoffMs(
  attempt: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
  baseMs = 250,
  capMs = 5000,
): number {
  const jittered = random() * Math.min(capMs, baseMs * 2 ** attempt);
  return retryAfterSeconds === null ? jittered : retryAfterSeconds * 1000 + jittered;
}
