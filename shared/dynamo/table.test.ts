import { expect, test } from 'bun:test'
import { missingLocalIndex, tableDefinition } from './table.ts'

test('the table is made with the live local index: pk / lsi1sk, projecting what the fold reads', () => {
  const def = tableDefinition('t')
  expect(def.LocalSecondaryIndexes).toEqual([{
    IndexName: 'live',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'lsi1sk', KeyType: 'RANGE' }],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['startsAt', 'endsAt', 'status', 'lastOffset'] }
  }])
  expect(def.AttributeDefinitions).toContainEqual({ AttributeName: 'lsi1sk', AttributeType: 'S' })
  expect(def.GlobalSecondaryIndexes!.map(g => g.IndexName)).toEqual(['byGrantee', 'byReservation', 'byTrip', 'byEndDay'])
})

test('missingLocalIndex names the index a table made before it lacks', () => {
  expect(missingLocalIndex([])).toBe('live')
  expect(missingLocalIndex(['other'])).toBe('live')
  expect(missingLocalIndex(['live'])).toBeUndefined()
})
