import { expect, test } from 'bun:test'
import { backoffMs, sleep, StoppingError, untilDone } from './retry.ts'

test('backoff doubles, is capped, and jitters between half and all of it', () => {
  expect(backoffMs(1, 100, 5000, () => 1)).toBe(100)
  expect(backoffMs(3, 100, 5000, () => 1)).toBe(400)
  expect(backoffMs(3, 100, 5000, () => 0)).toBe(200)
  expect(backoffMs(20, 100, 5000, () => 1)).toBe(5000)
})

test('untilDone retries errors and stops on abort', async () => {
  let n = 0
  const errors: number[] = []
  expect(await untilDone('x', async () => { if (++n < 3) throw new Error('down'); return n }, { baseMs: 1, onError: (_, a) => errors.push(a) })).toBe(3)
  expect(errors).toEqual([1, 2])
  // An abort ends the backoff wait at once (the first retry would wait 500 to 1000 ms).
  const ac = new AbortController()
  const t0 = performance.now()
  const p = untilDone('y', () => Promise.reject(new Error('down')), { baseMs: 1000, signal: ac.signal })
  setTimeout(() => ac.abort(), 10)
  await expect(p).rejects.toBeInstanceOf(StoppingError)
  expect(performance.now() - t0).toBeLessThan(400)
  await expect(sleep(10_000, AbortSignal.abort())).rejects.toBeInstanceOf(StoppingError)
})
