import { describe, expect, test } from 'bun:test'
import { commitsFor, nextCommitOffset } from './offsets.ts'

const done = (...offsets: number[]) => offsets.map(offset => ({ offset, done: true }))

describe('nextCommitOffset', () => {
  test('highest done + 1', () => {
    expect(nextCommitOffset(10, done(10, 11, 12))).toBe(13)
  })
  test('order of outcomes does not matter', () => {
    expect(nextCommitOffset(10, done(12, 10, 11))).toBe(13)
  })
  test('stops at the first record not done: nothing past it is committed', () => {
    expect(nextCommitOffset(10, [...done(10, 11), { offset: 12, done: false }, ...done(13, 14)])).toBe(12)
    expect(nextCommitOffset(10, [{ offset: 10, done: false }, ...done(11)])).toBeUndefined()
  })
  test('gaps in offsets (markers, compaction) are not failures', () => {
    expect(nextCommitOffset(10, done(10, 13, 20))).toBe(21)
  })
  test('records below the position (replays) never move it back', () => {
    expect(nextCommitOffset(10, done(5, 6, 7))).toBeUndefined()
    expect(nextCommitOffset(10, done(8, 9, 10))).toBe(11)
  })
  test('nothing read: nothing to commit', () => {
    expect(nextCommitOffset(3, [])).toBeUndefined()
  })
  test('per partition', () => {
    const out = commitsFor(new Map([[0, 0], [1, 5], [2, 9]]), new Map([
      [0, done(0, 1)],
      [1, [{ offset: 5, done: false }]],
      [2, done(9)]
    ]))
    expect(out).toEqual(new Map([[0, 2], [2, 10]]))
  })
})
