import { expect, test } from 'bun:test'
import { createIdGenerator, encodeTime, idTime, newId } from './ids.ts'

test('ids are 26 Crockford characters and carry their time', () => {
  const id = newId()
  expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
  expect(Math.abs(idTime(id)! - Date.now())).toBeLessThan(5000)
  expect(encodeTime(0)).toBe('0000000000')
  expect(encodeTime(2 ** 48 - 1)).toBe('7ZZZZZZZZZ')
  expect(() => encodeTime(2 ** 48)).toThrow(RangeError)
  expect(idTime('not-an-id!')).toBeUndefined()
})

test('ids sort in creation order across milliseconds', () => {
  let now = 1_700_000_000_000
  const next = createIdGenerator({ now: () => now })
  const a = next()
  now += 1
  const b = next()
  expect(a < b).toBe(true)
  expect(idTime(b)).toBe(now)
})

test('monotonic within one millisecond and when the clock steps back', () => {
  let now = 1_700_000_000_000
  const next = createIdGenerator({ now: () => now })
  const ids = Array.from({ length: 1000 }, () => next())
  now -= 10_000
  ids.push(next(), next())
  for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true)
  expect(new Set(ids).size).toBe(ids.length)
})

test('random part overflow borrows the next millisecond', () => {
  const next = createIdGenerator({ now: () => 1000, random: (b) => b.fill(31) })
  const a = next()
  expect(a.endsWith('Z'.repeat(16))).toBe(true)
  const b = next()
  expect(idTime(b)).toBe(1001)
  expect(a < b).toBe(true)
})
