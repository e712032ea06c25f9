import { expect, test } from 'bun:test'
import { itemLimitBroken, itemSizeAtLeast, MAX_ITEM_BYTES } from './item-limits.ts'

test('size lower bound: names and strings in UTF-8 bytes, 1 byte per number, boolean or null, nested lists and maps summed', () => {
  // Counted by hand: pk 2+3, sk 2+5, n 1+1, ok 2+1, none 4+1, é (a 2-byte name) 2+2, list 4+(1+1+1), map 3+(1+2)
  expect(itemSizeAtLeast({ pk: 'U#a', sk: 'RES#1', n: 12345, ok: true, none: null, é: 'x'.repeat(2), list: ['a', 7, 'b'], map: { k: 'vv' } })).toBe(5 + 7 + 2 + 3 + 5 + 4 + 7 + 6)
  expect(itemSizeAtLeast({ u: undefined, b: new Uint8Array(10) })).toBe(1 + 10)
})

test('an item over 400 KB or a key over its limit is named; one just under is not', () => {
  const base = { pk: 'U#a', sk: 'TRIP#1' }
  const room = MAX_ITEM_BYTES - itemSizeAtLeast(base) - 'notes'.length
  expect(itemLimitBroken({ ...base, notes: 'x'.repeat(room) })).toBeUndefined()
  expect(itemLimitBroken({ ...base, notes: 'x'.repeat(room + 1) })).toMatchObject({ name: 'ItemTooLarge' })
  expect(itemLimitBroken({ ...base, members: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`01JRES${String(i).padStart(20, '0')}`, { startsAt: '2031-01-01T10:00:00Z', endsAt: '2031-01-01T12:00:00Z' }])) })).toMatchObject({ name: 'ItemTooLarge' })
  expect(itemLimitBroken({ pk: `U#${'k'.repeat(2047)}`, sk: 'X' })).toMatchObject({ name: 'KeyTooLong' })
  expect(itemLimitBroken({ pk: `U#${'k'.repeat(2046)}`, sk: 'X' })).toBeUndefined()
  expect(itemLimitBroken({ pk: 'U#a', sk: 'é'.repeat(513) })).toMatchObject({ name: 'KeyTooLong' })
  expect(itemLimitBroken({ pk: 'U#a', sk: 'é'.repeat(512) })).toBeUndefined()
})

test('multi-byte text is counted in UTF-8 bytes near the limit (2-byte é, 3-byte 東)', () => {
  const base = { pk: 'U#a', sk: 'RES#1' }
  const over = (ch: string, bytes: number) => Math.floor((MAX_ITEM_BYTES - itemSizeAtLeast(base) - 'notes'.length) / bytes) + 1
  expect(itemLimitBroken({ ...base, notes: 'é'.repeat(over('é', 2)) })).toMatchObject({ name: 'ItemTooLarge' })
  expect(itemLimitBroken({ ...base, notes: 'é'.repeat(over('é', 2) - 1) })).toBeUndefined()
  expect(itemLimitBroken({ ...base, notes: '東'.repeat(over('東', 3)) })).toMatchObject({ name: 'ItemTooLarge' })
  expect(itemLimitBroken({ ...base, notes: '東'.repeat(over('東', 3) - 1) })).toBeUndefined()
})
