import { expect, test } from 'bun:test'
import { deepEqual } from './equal.ts'

test('deepEqual ignores key order and undefined-valued keys', () => {
  expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true)
  expect(deepEqual({ a: 1, x: undefined }, { a: 1 })).toBe(true)
  expect(deepEqual({ a: 1 }, { a: 2 })).toBe(false)
  expect(deepEqual([1, 2], [2, 1])).toBe(false)
  expect(deepEqual([], {})).toBe(false)
  expect(deepEqual(null, {})).toBe(false)
  expect(deepEqual(undefined, { a: 1 })).toBe(false)
  expect(deepEqual('a', 'a')).toBe(true)
})
