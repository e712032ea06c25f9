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
  shares: {},
  version: 1,
  lastOffset: 1,
  createdAt: 0,
  updatedAt: 0,
}

const at = (day: number) => `2030-01-0${day}T00:00:00.000Z`

test('deriveTrip: span from its active reservations, byEndDay only with an end, finished once finished with none active', () => {
  expect(deriveTrip(trip, [])).toMatchObject({ status: 'active', gsi3pk: 'T#T1', gsi3sk: '#TRIP', lsi1sk: 'T#T1' })
  expect('gsi4pk' in deriveTrip(trip, [])).toBe(false)
  const reservations = [
    { startsAt: at(2), endsAt: at(5), status: 'active' as const },
    { startsAt: at(1), endsAt: at(3), status: 'active' as const },
    { startsAt: at(1), endsAt: at(9), status: 'cancelled' as const },
    { startsAt: at(1), endsAt: at(8), status: 'finished' as const },
  ]
  const spanned = deriveTrip(trip, reservations)
  expect(spanned).toMatchObject({ startsAt: at(1), endsAt: at(5), gsi4pk: 'END#2030-01-05', gsi4sk: '2030-01-05T00:00:00.000Z#alice#T1' })
  // Without reservations given, the stored span is kept.
  expect(deriveTrip(spanned)).toMatchObject({ startsAt: at(1), endsAt: at(5), gsi4pk: 'END#2030-01-05' })
  expect(deriveTrip({ ...spanned, finishedAt: 5 }, reservations.slice(2))).toMatchObject({ status: 'finished' })
  expect(deriveTrip({ ...spanned, finishedAt: 5 }, reservations).status).toBe('active')
  expect('endsAt' in deriveTrip(spanned, [])).toBe(false)
  expect('gsi4pk' in deriveTrip(spanned, [])).toBe(false)
  expect(deriveTrip({ ...trip, unassigned: true, finishedAt: 5 }, []).status).toBe('active')
  const removed = deriveTrip({ ...spanned, deleted: true }, reservations)
  expect(removed.status).toBe('removed')
  for (const a of ['gsi3pk', 'gsi4pk', 'lsi1sk', 'startsAt', 'endsAt']) expect(a in removed).toBe(false)
})

test('reservation and share indexes follow their state', () => {
  const r = { id: 'R1', tripId: 'T1', startsAt: '2030-01-01T00:00:00.000Z', status: 'active' } as ReservationItem
  expect(withReservationIndexes(r)).toMatchObject({ gsi2pk: 'R#R1', gsi3pk: 'T#T1', gsi3sk: '2030-01-01T00:00:00.000Z#R1', lsi1sk: 'R#T1#R1' })
  expect(withReservationIndexes({ ...r, status: 'cancelled' }).lsi1sk).toBe('R#T1#R1')
  const gone = withReservationIndexes({ ...withReservationIndexes(r), status: 'removed' })
  for (const a of ['gsi2pk', 'gsi3pk', 'gsi3sk', 'lsi1sk']) expect(a in gone).toBe(false)
  expect('lsi1sk' in withReservationIndexes({ ...withReservationIndexes(r), deleted: true })).toBe(false)
  const s = { tripId: 'T1', granteeId: 'bob' } as ShareItem
  expect(withShareIndexes(s)).toMatchObject({ gsi1pk: 'G#bob', gsi1sk: 'TRIP#T1', gsi3pk: 'T#T1', gsi3sk: '~SHARE#bob' })
  expect('gsi1pk' in withShareIndexes({ ...withShareIndexes(s), deleted: true })).toBe(false)
})

test('compact drops undefined values only', () => {
  expect(compact<object>({ a: 1, b: undefined, c: null, d: 0 })).toEqual({ a: 1, c: null, d: 0 })
  expect('b' in compact({ a: 1, b: undefined })).toBe(false)
})
