import { expect, test } from 'bun:test'
import { offsetToCommit, PartitionTracker } from './offsets.ts'

test('nothing done: nothing to commit', () => {
  expect(offsetToCommit({ pending: [5n] })).toBeUndefined()
  expect(offsetToCommit({ pending: [] })).toBeUndefined()
})

test('all done: highest done + 1', () => {
  expect(offsetToCommit({ pending: [], highestDone: 9n })).toBe(10n)
})

test('a lower record still in progress holds the commit back', () => {
  expect(offsetToCommit({ pending: [7n, 12n], highestDone: 9n })).toBe(7n)
  expect(offsetToCommit({ pending: [12n], highestDone: 9n })).toBe(10n)
})

test('never commits at or below what is committed', () => {
  expect(offsetToCommit({ pending: [], highestDone: 9n, committed: 10n })).toBeUndefined()
  expect(offsetToCommit({ pending: [4n], highestDone: 9n, committed: 4n })).toBeUndefined()
  expect(offsetToCommit({ pending: [], highestDone: 9n, committed: 3n })).toBe(10n)
})

test('tracker: gaps of a compacted log, out-of-order completion, re-fetched records', () => {
  const t = new PartitionTracker()
  for (const o of [3n, 8n, 9n, 15n]) expect(t.read(o)).toBe(true)
  expect(t.read(8n)).toBe(false) // fetched again after a rejoin: already in hand
  t.done(9n)
  t.done(15n)
  expect(t.toCommit()).toBe(3n)
  t.done(3n)
  expect(t.toCommit()).toBe(8n)
  t.done(8n)
  expect(t.toCommit()).toBe(16n)
  t.committed = 16n
  expect(t.toCommit()).toBeUndefined()
  expect(t.inFlight).toBe(0)
})
