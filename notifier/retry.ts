/** Backoff and abortable waits shared by the webhook sender and the infrastructure retries. */

/** Raised when work stops because the notifier is shutting down (or lost the partition). */
export class StoppingError extends Error {
  readonly code = 'NOTIFIER_STOPPING'
  readonly canRetry = true
  constructor(what: string) {
    super(`stopped while ${what}`)
    this.name = 'StoppingError'
  }
}

/**
 * Delay before retry number `retry` (1 = first retry): exponential (base x 2^(retry-1)) capped at
 * `maxMs`, with "full jitter" (uniform between half and all of it), so retries of many events spread out.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** Resolves after `ms`, or rejects with StoppingError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, what = 'waiting'): Promise<void> {
  if (signal?.aborted) return Promise.reject(new StoppingError(what))
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(new StoppingError(what))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Runs `fn` until it succeeds: infrastructure errors (DynamoDB, Kafka) are retried with backoff
 * for as long as it takes, since skipping would lose a notification; only a stop ends it.
 */
export async function untilDone<T>(what: string, fn: () => Promise<T>, o: { signal?: AbortSignal; onError?: (error: unknown, attempt: number) => void; baseMs?: number; maxMs?: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new StoppingError(what)
    try {
      return await fn()
    } catch (error) {
      if (error instanceof StoppingError) throw error
      o.onError?.(error, attempt)
      await sleep(backoffMs(attempt, o.baseMs ?? 100, o.maxMs ?? 5000), o.signal, what)
    }
  }
}
