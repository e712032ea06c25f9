import { describe, expect, test } from 'bun:test'
import { marshall } from '@aws-sdk/util-dynamodb'
import { seedItems } from '../lib/seed.ts'
import { handMarshall, lpDecode, lpEncode } from './codecs.ts'

describe('micro-benchmark alternatives are faithful', () => {
  test('length-prefixed encoding round-trips a command-like value', () => {
    const v = { v: 1, type: 'reservation.create', at: 1.5e12, ok: true, none: null, places: [{ name: 'Zürich', lat: 47.45 }] }
    expect(lpDecode(lpEncode(v))).toEqual(v)
  })
  test('the hand-written marshaller matches @aws-sdk/util-dynamodb on a reservation item', () => {
    const item = seedItems(3).find(i => i.entity === 'reservation')!
    expect(handMarshall(item)).toEqual(marshall(item, { removeUndefinedValues: true }) as never)
  })
})
