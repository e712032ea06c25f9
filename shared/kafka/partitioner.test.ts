import { describe, expect, test } from 'bun:test'
import { murmur2, partitionForKey } from './partitioner.ts'

const enc = (s: string) => new TextEncoder().encode(s)

describe('murmur2 (Java client vectors, from Kafka UtilsTest)', () => {
  const vectors: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107]
  ]
  for (const [input, expected] of vectors) {
    test(`murmur2("${input}") = ${expected}`, () => expect(murmur2(enc(input))).toBe(expected))
  }

  test('the key "abcd" goes to partition 8 of 12, as the Java client picks', () => {
    expect(partitionForKey('abcd', 12)).toBe(8)
  })

  test('partitions stay in range and are stable', () => {
    for (let i = 0; i < 5000; i++) {
      const p = partitionForKey(`user-${i}`, 12)
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThan(12)
      expect(partitionForKey(`user-${i}`, 12)).toBe(p)
    }
  })
})
