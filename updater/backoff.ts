/**
 * Exponential backoff with full jitter: attempt n (0-based) waits a uniform random time in
 * [0, min(maxMs, baseMs * 2^n)]. Pure given `random` (AWS architecture blog, "Exponential
 * Backoff And Jitter": full jitter spreads retries of many writers best).
 */
export interface BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number
  baseMs: number
  maxMs: number
}

export function backoffDelay (policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * cap)
}
