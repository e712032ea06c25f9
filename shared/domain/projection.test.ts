import { expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ReservationItineraryView, ReservationView, TripView } from '../schemas/views.ts'
import type { ReservationItem, TripItem } from './items.ts'
import { projectForRole, projectTripForRole, roleOf } from './projection.ts'
import { FakeTable, commandFactory, flight } from './test-fixtures.ts'

const { cmd, nextId } = commandFactory()
const table = new FakeTable()
const [T, R] = [nextId(), nextId()]
table.run([
  cmd('trip.create', { tripId: T, name: 'Trip', notes: 'private' }),
  cmd('reservation.create', { reservationId: R, ...flight, tripId: T, notes: 'seat 3A', price: { amount: 100, currency: 'EUR' }, trackingRef: 'PNR', agencyId: 'acme' }),
  cmd('trip.share.put', { tripId: T, granteeId: 'bob', role: 'dates-and-places' }),
  cmd('trip.share.put', { tripId: T, granteeId: 'carol', role: 'full' }),
])
const r = table.items.get(`RES#${R}`) as ReservationItem
const trip = table.items.get(`TRIP#${T}`) as TripItem

test('dates-and-places sees the itinerary only', () => {
  const v = projectForRole(r, 'dates-and-places')
  expect(TypeCompiler.Compile(ReservationItineraryView).Check(v)).toBe(true)
  expect(Object.keys(v).sort()).toEqual(['endsAt', 'id', 'places', 'startsAt', 'status', 'title', 'tripId', 'type'])
})

test('owner and full see every public field, never internals', () => {
  for (const role of ['owner', 'full'] as const) {
    const v = projectForRole(r, role)
    expect(TypeCompiler.Compile(ReservationView).Check(v)).toBe(true)
    expect(v).toMatchObject({ notes: 'seat 3A', price: { amount: 100 }, trackingRef: 'PNR' })
    for (const k of ['pk', 'sk', 'lastEvent', 'lastOffset', 'gsi2pk', 'history']) expect(k in v).toBe(false)
  }
})

test('roles on a trip and trip views', () => {
  expect(roleOf(trip, 'alice')).toBe('owner')
  expect(roleOf(trip, 'bob')).toBe('dates-and-places')
  expect(roleOf(trip, 'mallory')).toBeUndefined()
  expect(roleOf({ ...trip, deleted: true }, 'alice')).toBeUndefined()
  const check = TypeCompiler.Compile(TripView)
  const owner = projectTripForRole(trip, 'owner')
  expect(check.Check(owner)).toBe(true)
  expect(owner.shares).toEqual({ bob: 'dates-and-places', carol: 'full' })
  const limited = projectTripForRole(trip, 'dates-and-places')
  expect(check.Check(limited)).toBe(true)
  expect('notes' in limited || 'shares' in limited).toBe(false)
  expect(projectTripForRole(trip, 'full').notes).toBe('private')
})
