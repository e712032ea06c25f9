import { describe, expect, test } from 'bun:test'
import { TokenBuckets } from './token-bucket.ts'

describe('TokenBuckets', () => {
  test('a burst is allowed, then one request per refill interval; Retry-After is the wait rounded up', () => {
    const b = new TokenBuckets({ perS: 2, burst: 3, maxKeys: 10 })
    expect([0, 0, 0].map(() => b.take('alice', 1, 0).ok)).toEqual([true, true, true])
    expect(b.take('alice', 1, 0)).toEqual({ ok: false, retryAfterS: 1, firstRefusal: true })
    expect(b.take('alice', 1, 100)).toEqual({ ok: false, retryAfterS: 1, firstRefusal: false })
    // 2 tokens a second: 500 ms after the last take one token is back.
    expect(b.take('alice', 1, 500).ok).toBe(true)
    expect(b.take('alice', 1, 500).ok).toBe(false)
    // Other keys have their own bucket.
    expect(b.take('bob', 1, 500).ok).toBe(true)
  })

  test('costs: a write of cost 4 with 1 token/s left at 0 waits 4 s; a cost above the burst needs a full bucket', () => {
    const b = new TokenBuckets({ perS: 1, burst: 4, maxKeys: 10 })
    expect(b.take('u', 4, 0).ok).toBe(true)
    expect(b.take('u', 4, 0)).toMatchObject({ ok: false, retryAfterS: 4 })
    expect(b.take('u', 4, 2500)).toMatchObject({ ok: false, retryAfterS: 2 }) // 2.5 tokens: 1.5 s more, rounded up
    expect(b.take('u', 100, 4000).ok).toBe(true) // capped at the burst: a full bucket pays
    expect(b.take('u', 1, 4000).ok).toBe(false)
  })

  test('after a refusal, a success clears the refusal flag (firstRefusal marks each new run of refusals)', () => {
    const b = new TokenBuckets({ perS: 1, burst: 1, maxKeys: 10 })
    b.take('u', 1, 0)
    expect(b.take('u', 1, 0)).toMatchObject({ firstRefusal: true })
    expect(b.take('u', 1, 10)).toMatchObject({ firstRefusal: false })
    expect(b.take('u', 1, 1000).ok).toBe(true)
    expect(b.take('u', 1, 1000)).toMatchObject({ firstRefusal: true })
  })

  test('a flood of distinct keys never holds more than maxKeys buckets; the least recently used goes first', () => {
    const b = new TokenBuckets({ perS: 1, burst: 2, maxKeys: 100 })
    b.take('victim', 2, 0) // empty
    for (let i = 0; i < 10_000; i++) {
      b.take(`flood-${i}`, 1, 0)
      if (i % 50 === 0) b.take('victim', 1, 0) // kept recently used: never evicted, stays empty
      expect(b.size).toBeLessThanOrEqual(100)
    }
    expect(b.take('victim', 1, 0).ok).toBe(false)
    // The oldest flood keys were evicted: they come back with a full bucket.
    expect(b.take('flood-0', 2, 0).ok).toBe(true)
  })

  test('idle buckets that refilled are dropped as new takes come, so memory drains without a timer', () => {
    const b = new TokenBuckets({ perS: 10, burst: 10, maxKeys: 1000 })
    for (let i = 0; i < 500; i++) b.take(`u${i}`, 1, 0)
    expect(b.size).toBe(500)
    // 1 s later every bucket is full again; each take sweeps a couple of the oldest.
    for (let i = 0; i < 300; i++) b.take('active', 1, 1000 + i * 100)
    expect(b.size).toBe(1)
  })

  test('refuses nonsense options', () => {
    expect(() => new TokenBuckets({ perS: 0, burst: 1, maxKeys: 1 })).toThrow()
    expect(() => new TokenBuckets({ perS: 1, burst: 0, maxKeys: 1 })).toThrow()
  })
})
