import { expect, test } from 'bun:test'
import type { FoldItem, ReservationItem, TripItem } from './items.ts'
import { followUpKeys, loadsFor, planLoads } from './loads.ts'
import { commandFactory, flight } from './test-fixtures.ts'

const { cmd, nextId } = commandFactory()
const [R, T] = [nextId(), nextId()]

test('loadsFor names keys and trips per command', () => {
  expect(loadsFor(cmd('reservation.create', { reservationId: R, ...flight }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
  ])
  expect(loadsFor(cmd('reservation.update', { reservationId: R, patch: { tripId: null } }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
    { kind: 'tripOfReservation', reservationId: R },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
  ])
  expect(loadsFor(cmd('reservation.agency-update', { agencyId: 'a', reservationId: R, change: 'cancelled' }).command)).toContainEqual({
    kind: 'tripOfReservation',
    reservationId: R,
  })
  expect(loadsFor(cmd('trip.remove', { tripId: T }).command)).toEqual([
    { kind: 'item', sk: `TRIP#${T}` },
    { kind: 'trip', tripId: T },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
  ])
  expect(loadsFor(cmd('trip.share.put', { tripId: T, granteeId: 'bob', role: 'full' }).command)).toEqual([
    { kind: 'item', sk: `TRIP#${T}` },
    { kind: 'item', sk: `SHARE#${T}#bob` },
  ])
  expect(loadsFor(cmd('settings.put', {}).command)).toEqual([{ kind: 'item', sk: 'SETTINGS' }])
})

test('planLoads dedupes; followUpKeys adds trip members, shares and reservations’ trips not yet loaded', () => {
  const plan = planLoads([
    cmd('trip.finish', { tripId: T }).command,
    cmd('trip.update', { tripId: T, patch: { name: 'x' } }).command,
    cmd('reservation.remove', { reservationId: R }).command,
  ])
  expect(plan).toEqual({ keys: [`TRIP#${T}`, `RES#${R}`], trips: [T], reservationTrips: [R], queryTrips: [T] })
  const items = new Map<string, FoldItem>([
    [`TRIP#${T}`, { entity: 'trip', members: { M1: {}, [R]: {} }, shares: { bob: 'full' } } as unknown as TripItem],
    [`RES#${R}`, { entity: 'reservation', tripId: 'OTHER' } as ReservationItem],
  ])
  expect(followUpKeys(plan, items).sort()).toEqual(['RES#M1', `SHARE#${T}#bob`, 'TRIP#OTHER'].sort())
})
