import { expect, test } from 'bun:test'
import { backoffDelay } from './backoff.ts'

const policy = { maxAttempts: 8, baseMs: 25, maxMs: 1000 }

test('the cap doubles per attempt up to maxMs; the delay is uniform below it', () => {
  expect([0, 1, 2, 3, 4, 5, 6, 40].map(a => backoffDelay(policy, a, () => 0.999999))).toEqual([24, 49, 99, 199, 399, 799, 999, 999])
  expect(backoffDelay(policy, 5, () => 0)).toBe(0)
  expect(backoffDelay(policy, 3, () => 0.5)).toBe(100)
})

test('full jitter: delays of one attempt spread over the whole range', () => {
  const delays = Array.from({ length: 2000 }, () => backoffDelay(policy, 4))
  expect(Math.min(...delays)).toBeLessThan(40)
  expect(Math.max(...delays)).toBeGreaterThan(360)
  expect(delays.every(d => d >= 0 && d < 400)).toBe(true)
})
