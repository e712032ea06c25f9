import { expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { USER_ID_PATTERN } from '../schemas/ids.ts'
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

/** Object.prototype's own names (and two more) that are valid user ids: each once a stranger, once a grantee. */
const PROTOTYPE_NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype'])].filter((n) => new RegExp(USER_ID_PATTERN).test(n))

test('the prototype names fit the user id pattern (the test covers them), except __proto__, refused as an id', () => {
  for (const n of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', '__lookupSetter__']) expect(PROTOTYPE_NAMES).toContain(n)
  expect(PROTOTYPE_NAMES).not.toContain('__proto__')
  expect(new RegExp(USER_ID_PATTERN).test('__proto__')).toBe(false)
  for (const n of ['__proto', '__proto__x', 'x__proto__', '___proto__', '__PROTO__']) expect(new RegExp(USER_ID_PATTERN).test(n)).toBe(true)
})

test('roleOf: __proto__ finds nothing, however the map was built', () => {
  expect(roleOf(trip, '__proto__')).toBeUndefined()
  expect(roleOf({ ...trip, shares: JSON.parse('{"__proto__":"full"}') }, '__proto__')).toBe('full')
  expect(roleOf({ ...trip, shares: JSON.parse('{"__proto__":"full"}') }, 'constructor')).toBeUndefined()
})

test('roleOf: a user named like an Object.prototype member has no role on a trip not shared with them', () => {
  for (const name of PROTOTYPE_NAMES) {
    expect(roleOf(trip, name)).toBeUndefined()
    expect(roleOf({ ...trip, shares: {} }, name)).toBeUndefined()
  }
})

test('roleOf: shared with such a name, that user gets exactly the role given and nobody else gains one', () => {
  const t = new FakeTable()
  const id = nextId()
  t.run([cmd('trip.create', { tripId: id, name: 'Proto' })])
  t.run(PROTOTYPE_NAMES.map((n, i) => cmd('trip.share.put', { tripId: id, granteeId: n, role: i % 2 ? 'full' : 'dates-and-places' })))
  const shared = t.items.get(`TRIP#${id}`) as TripItem
  expect(Object.keys(shared.shares).sort()).toEqual([...PROTOTYPE_NAMES].sort())
  PROTOTYPE_NAMES.forEach((n, i) => expect(roleOf(shared, n)).toBe(i % 2 ? 'full' : 'dates-and-places'))
  // Through JSON, as DynamoDB's marshalling and the wire carry it.
  const copy = JSON.parse(JSON.stringify(shared)) as TripItem
  PROTOTYPE_NAMES.forEach((n, i) => expect(roleOf(copy, n)).toBe(i % 2 ? 'full' : 'dates-and-places'))
  expect(roleOf(shared, 'mallory')).toBeUndefined()
})

test('roleOf: a stored value that is not a role grants nothing', () => {
  expect(roleOf({ ...trip, shares: { eve: 'owner' } as never }, 'eve')).toBeUndefined()
  expect(roleOf({ ...trip, shares: { eve: {} } as never }, 'eve')).toBeUndefined()
})
