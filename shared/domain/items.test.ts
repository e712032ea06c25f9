import { expect, test } from 'bun:test'
import { compact, deriveTrip, withReservationIndexes, withShareIndexes, type ReservationItem, type ShareItem, type TripItem } from './items.ts'

const trip: TripItem = {
  pk: 'U#alice',
  sk: 'TRIP#T1',
  entity: 'trip',
  id: 'T1',
  ownerId: 'alice',
  name: 'T',
  createdOffset: 1,
  unassigned: false,
  status: 'active',
  members: {},
  shares: {},
  version: 1,
  lastOffset: 1,
  createdAt: 0,
  updatedAt: 0,
}

test('deriveTrip: span from members, byEndDay only with an end, finished once finished and empty', () => {
  expect(deriveTrip(trip)).toMatchObject({ status: 'active', gsi3pk: 'T#T1', gsi3sk: '#TRIP' })
  expect('gsi4pk' in deriveTrip(trip)).toBe(false)
  const withMembers = deriveTrip({
    ...trip,
    members: { a: { startsAt: '2030-01-02T00:00:00.000Z', endsAt: '2030-01-05T00:00:00.000Z' }, b: { startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-01-03T00:00:00.000Z' } },
  })
  expect(withMembers).toMatchObject({ startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-01-05T00:00:00.000Z', gsi4pk: 'END#2030-01-05', gsi4sk: '2030-01-05T00:00:00.000Z#alice#T1' })
  expect(deriveTrip({ ...withMembers, members: {}, finishedAt: 5 })).toMatchObject({ status: 'finished' })
  expect('endsAt' in deriveTrip({ ...withMembers, members: {} })).toBe(false)
  expect(deriveTrip({ ...trip, unassigned: true, finishedAt: 5 }).status).toBe('active')
  const removed = deriveTrip({ ...withMembers, deleted: true })
  expect(removed.status).toBe('removed')
  for (const a of ['gsi3pk', 'gsi4pk', 'startsAt', 'endsAt']) expect(a in removed).toBe(false)
})

test('reservation and share indexes follow their state', () => {
  const r = { id: 'R1', tripId: 'T1', startsAt: '2030-01-01T00:00:00.000Z', status: 'active' } as ReservationItem
  expect(withReservationIndexes(r)).toMatchObject({ gsi2pk: 'R#R1', gsi3pk: 'T#T1', gsi3sk: '2030-01-01T00:00:00.000Z#R1' })
  const gone = withReservationIndexes({ ...withReservationIndexes(r), status: 'removed' })
  for (const a of ['gsi2pk', 'gsi3pk', 'gsi3sk']) expect(a in gone).toBe(false)
  const s = { tripId: 'T1', granteeId: 'bob' } as ShareItem
  expect(withShareIndexes(s)).toMatchObject({ gsi1pk: 'G#bob', gsi1sk: 'TRIP#T1', gsi3pk: 'T#T1', gsi3sk: '~SHARE#bob' })
  expect('gsi1pk' in withShareIndexes({ ...withShareIndexes(s), deleted: true })).toBe(false)
})

test('compact drops undefined values only', () => {
  expect(compact<object>({ a: 1, b: undefined, c: null, d: 0 })).toEqual({ a: 1, c: null, d: 0 })
  expect('b' in compact({ a: 1, b: undefined })).toBe(false)
})
