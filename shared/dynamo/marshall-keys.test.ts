import { expect, test } from 'bun:test'
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb'
import { USER_ID_PATTERN } from '../schemas/ids.ts'
import { TRANSLATE } from './client.ts'

/** Object.prototype's names that are valid user ids: they are keys of a trip's `shares` map. */
const NAMES = Object.getOwnPropertyNames(Object.prototype).concat('prototype').filter((n) => new RegExp(USER_ID_PATTERN).test(n))

test('a shares map keyed by every built-in name marshals and comes back unchanged', () => {
  const shares = Object.fromEntries(NAMES.map((n, i) => [n, i % 2 ? 'full' : 'dates-and-places']))
  const item = { pk: 'U#alice', sk: 'TRIP#x', shares }
  const wire = marshall(item, TRANSLATE.marshallOptions)
  expect(Object.keys(wire.shares!.M!).sort()).toEqual([...NAMES].sort())
  const back = unmarshall(JSON.parse(JSON.stringify(wire)), TRANSLATE.unmarshallOptions)
  expect(back).toEqual(item)
  for (const n of NAMES) expect(Object.hasOwn(back.shares, n)).toBe(true)
})

test('without convertClassInstanceToMap a `constructor` key is refused for good (why the option is on)', () => {
  expect(() => marshall({ shares: { constructor: 'full' } }, { removeUndefinedValues: true, convertClassInstanceToMap: false })).toThrow()
  expect(() => marshall({ shares: { constructor: 'full' } }, TRANSLATE.marshallOptions)).not.toThrow()
})
