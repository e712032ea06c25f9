/**
 * Token buckets by key (a user id, an agency id), bounded in memory.
 *
 * Each key has a bucket of `burst` tokens refilled at `perS` tokens a second; a request takes
 * `cost` tokens or is refused with the seconds until it could be taken. Buckets live in a Map in
 * least-recently-used order (a touched key moves to the end). Two rules keep it bounded:
 *   - a bucket idle long enough to be full again is the same as no bucket, so it is dropped
 *     (`sweep`, a few oldest entries on every take);
 *   - past `maxKeys` the least recently used bucket is dropped, so a flood of distinct keys costs
 *     at most `maxKeys` entries. A dropped bucket comes back full: the worst an eviction can do is
 *     forgive one key's debt, never refuse anyone.
 * Keys are looked up in a Map only (a client's string never indexes an object).
 */
export interface BucketOptions {
  perS: number
  burst: number
  maxKeys: number
}

export type Take = { ok: true } | { ok: false, retryAfterS: number, firstRefusal: boolean }

interface Bucket { tokens: number, at: number, refused: boolean }

/** Entries looked at per take for idle eviction: amortised O(1), yet idle keys drain steadily. */
const SWEEP_PER_TAKE = 2

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  /** ms after which an untouched bucket is full again. */
  private readonly refillMs: number

  constructor (private readonly o: BucketOptions) {
    if (!(o.perS > 0) || !(o.burst >= 1) || !(o.maxKeys >= 1)) throw new Error('token buckets need perS > 0, burst ≥ 1, maxKeys ≥ 1')
    this.refillMs = (o.burst / o.perS) * 1000
  }

  get size (): number { return this.buckets.size }

  /**
   * Takes `cost` tokens from `key`'s bucket at `nowMs`. A cost above the burst can never be taken
   * whole: it is capped at the burst (the request then needs a full bucket).
   */
  take (key: string, cost = 1, nowMs = performance.now()): Take {
    this.sweep(nowMs)
    const need = Math.min(cost, this.o.burst)
    const b = this.buckets.get(key)
    let tokens: number
    if (b) {
      this.buckets.delete(key) // re-inserted below: most recently used last
      tokens = Math.min(this.o.burst, b.tokens + ((nowMs - b.at) / 1000) * this.o.perS)
    } else {
      tokens = this.o.burst
    }
    const refused = b?.refused ?? false
    if (tokens >= need) {
      this.put(key, { tokens: tokens - need, at: nowMs, refused: false })
      return { ok: true }
    }
    this.put(key, { tokens, at: nowMs, refused: true })
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((need - tokens) / this.o.perS)), firstRefusal: !refused }
  }

  private put (key: string, b: Bucket): void {
    this.buckets.set(key, b)
    while (this.buckets.size > this.o.maxKeys) this.buckets.delete(this.buckets.keys().next().value!)
  }

  /** Drops the oldest buckets that have refilled completely (they hold no state worth keeping). */
  sweep (nowMs: number, max = SWEEP_PER_TAKE): void {
    for (const [key, b] of this.buckets) {
      if (max-- <= 0 || nowMs - b.at < this.refillMs) return
      this.buckets.delete(key)
    }
  }
}
