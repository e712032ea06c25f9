import { describe, expect, test } from 'bun:test'
import { OwnershipError, ownedPartitions, ownershipFrom } from './partitions.ts'

describe('ownedPartitions', () => {
  test('index/count: disjoint and complete for every count up to 40 and partition count up to 64', () => {
    for (let partitions = 1; partitions <= 64; partitions++) {
      for (let count = 1; count <= 40; count++) {
        const owner = new Map<number, number>()
        const sizes: number[] = []
        for (let index = 0; index < count; index++) {
          const owned = ownedPartitions({ kind: 'index', index, count }, partitions)
          sizes.push(owned.length)
          for (const p of owned) {
            expect(owner.has(p)).toBe(false)
            owner.set(p, index)
          }
        }
        expect(owner.size).toBe(partitions)
        // Shares differ by one at most.
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      }
    }
  })

  test('12 partitions over 2 updaters', () => {
    expect(ownedPartitions({ kind: 'index', index: 0, count: 2 }, 12)).toEqual([0, 2, 4, 6, 8, 10])
    expect(ownedPartitions({ kind: 'index', index: 1, count: 2 }, 12)).toEqual([1, 3, 5, 7, 9, 11])
  })

  test('more updaters than partitions: the extra ones own nothing', () => {
    expect(ownedPartitions({ kind: 'index', index: 5, count: 6 }, 4)).toEqual([])
  })

  test('explicit list: sorted, validated', () => {
    expect(ownedPartitions({ kind: 'explicit', partitions: [5, 1, 3] }, 12)).toEqual([1, 3, 5])
    expect(() => ownedPartitions({ kind: 'explicit', partitions: [12] }, 12)).toThrow(OwnershipError)
    expect(() => ownedPartitions({ kind: 'explicit', partitions: [1, 1] }, 12)).toThrow('listed twice')
    expect(() => ownedPartitions({ kind: 'explicit', partitions: [] }, 12)).toThrow('empty')
  })

  test('index out of range is refused with the variable named', () => {
    expect(() => ownedPartitions({ kind: 'index', index: 2, count: 2 }, 12)).toThrow('UPDATER_INDEX 2')
    expect(() => ownedPartitions({ kind: 'index', index: 0, count: 0 }, 12)).toThrow('UPDATER_COUNT 0')
  })

  test('ownershipFrom: the explicit list wins', () => {
    expect(ownershipFrom({ UPDATER_INDEX: 1, UPDATER_COUNT: 2 })).toEqual({ kind: 'index', index: 1, count: 2 })
    expect(ownershipFrom({ UPDATER_INDEX: 1, UPDATER_COUNT: 2, UPDATER_PARTITIONS: '4,7' })).toEqual({ kind: 'explicit', partitions: [4, 7] })
  })
})
