import { expect, test } from 'bun:test'
import type { FoldItem, ReservationItem, TripItem } from './items.ts'
import { emptyLiveIndex, emptyTableIndex, loadsFor, nextLoads, planLoads, readLoads, type LoadIo, type UserLoad } from './loads.ts'
import { commandFactory, flight } from './test-fixtures.ts'

const { cmd, nextId } = commandFactory()
const [R, T] = [nextId(), nextId()]

test('loadsFor names keys, index rows and counts per command', () => {
  expect(loadsFor(cmd('reservation.create', { reservationId: R, ...flight }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
    { kind: 'tripReservations', tripId: 'unassigned-alice' },
    { kind: 'activeReservations' },
  ])
  expect(loadsFor(cmd('reservation.update', { reservationId: R, patch: { tripId: null } }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
    { kind: 'tripOfReservation', reservationId: R },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
    { kind: 'tripReservations', tripId: 'unassigned-alice' },
  ])
  expect(loadsFor(cmd('reservation.agency-update', { agencyId: 'a', reservationId: R, change: 'cancelled' }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
    { kind: 'tripOfReservation', reservationId: R },
  ])
  // Nothing that moves it in its trip's span: no trip needed.
  expect(loadsFor(cmd('reservation.agency-update', { agencyId: 'a', reservationId: R, change: 'updated', details: { title: 'x' } }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
  ])
  expect(loadsFor(cmd('reservation.update', { reservationId: R, patch: { title: 'x', notes: null } }).command)).toEqual([{ kind: 'item', sk: `RES#${R}` }])
  expect(loadsFor(cmd('reservation.update', { reservationId: R, patch: { endsAt: '2030-02-02T00:00Z' } }).command)).toEqual([
    { kind: 'item', sk: `RES#${R}` },
    { kind: 'tripOfReservation', reservationId: R },
  ])
  expect(loadsFor(cmd('trip.create', { tripId: T, name: 'x' }).command)).toEqual([
    { kind: 'item', sk: `TRIP#${T}` },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
    { kind: 'liveTrips' },
  ])
  expect(loadsFor(cmd('trip.remove', { tripId: T }).command)).toEqual([
    { kind: 'item', sk: `TRIP#${T}` },
    { kind: 'tripReservations', tripId: T },
    { kind: 'tripMembers', tripId: T, which: 'all' },
    { kind: 'tripShares', tripId: T },
    { kind: 'item', sk: 'TRIP#unassigned-alice' },
    { kind: 'tripReservations', tripId: 'unassigned-alice' },
  ])
  expect(loadsFor(cmd('trip.finish', { tripId: T }).command)).toContainEqual({ kind: 'tripMembers', tripId: T, which: 'active' })
  expect(loadsFor(cmd('trip.share.put', { tripId: T, granteeId: 'bob', role: 'full' }).command)).toEqual([
    { kind: 'item', sk: `TRIP#${T}` },
    { kind: 'item', sk: `SHARE#${T}#bob` },
  ])
  expect(loadsFor(cmd('settings.put', {}).command)).toEqual([{ kind: 'item', sk: 'SETTINGS' }])
})

const row = (sk: string, status: 'active' | 'cancelled' | 'finished', lastOffset: number) => ({ sk, startsAt: 'a', endsAt: 'b', status, lastOffset })

test('planLoads dedupes; nextLoads adds shares, members from the rows, reservations’ trips and rows touched since the batch began', () => {
  const commands = [
    { offset: 50, command: cmd('trip.finish', { tripId: T }).command },
    { offset: 51, command: cmd('trip.update', { tripId: T, patch: { name: 'x' } }).command },
    { offset: 52, command: cmd('reservation.remove', { reservationId: R }).command },
  ]
  const plan = planLoads(commands)
  expect(plan).toEqual({
    keys: [`TRIP#${T}`, `RES#${R}`],
    tripReservations: [T],
    tripShares: [T],
    allMembers: [],
    activeMembers: [T],
    reservationTrips: [R],
    activeReservations: false,
    liveTrips: false,
    since: 50,
  })
  const index = emptyLiveIndex()
  expect(nextLoads(plan, new Map(), index)).toEqual({ keys: [`TRIP#${T}`, `RES#${R}`], tripReservations: [T] })
  index.requested.add(`TRIP#${T}`).add(`RES#${R}`)
  // M1 active: finished by trip.finish; M2 cancelled, untouched; M3 cancelled but written at 51 by an earlier attempt.
  index.tripReservations.set(T, [row('RES#M1', 'active', 10), row('RES#M2', 'cancelled', 11), row('RES#M3', 'cancelled', 51)])
  const items = new Map<string, FoldItem>([
    [`TRIP#${T}`, { entity: 'trip', shares: { bob: 'full' } } as unknown as TripItem],
    [`RES#${R}`, { entity: 'reservation', tripId: 'OTHER' } as ReservationItem],
  ])
  const next = nextLoads(plan, items, index)
  expect(next.keys.sort()).toEqual(['RES#M1', 'RES#M3', `SHARE#${T}#bob`, 'TRIP#OTHER'].sort())
  expect(next.tripReservations).toEqual(['OTHER'])
  for (const k of next.keys) index.requested.add(k)
  index.tripReservations.set('OTHER', [])
  expect(nextLoads(plan, items, index)).toEqual({ keys: [], tripReservations: [] })
})

test('trip.remove reads every reservation of the trip by key, whatever its status', () => {
  const plan = planLoads([{ offset: 9, command: cmd('trip.remove', { tripId: T }).command }])
  const index = emptyLiveIndex()
  for (const k of nextLoads(plan, new Map(), index).keys) index.requested.add(k)
  index.tripReservations.set(T, [row('RES#A', 'active', 1), row('RES#B', 'finished', 2)])
  index.tripReservations.set('unassigned-alice', [row('RES#C', 'active', 3)])
  expect(nextLoads(plan, new Map(), index).keys.sort()).toEqual(['RES#A', 'RES#B'])
})

test('readLoads: rounds until settled, counts asked only for commands that may add, every key requested remembered', async () => {
  const pk = 'U#alice'
  const table = new Map<string, Record<string, unknown>>([
    [`RES#${R}`, { pk, sk: `RES#${R}`, entity: 'reservation', tripId: T, status: 'active', lsi1sk: `R#${T}#${R}`, startsAt: 's', endsAt: 'e', lastOffset: 3 }],
    [`TRIP#${T}`, { pk, sk: `TRIP#${T}`, entity: 'trip', shares: {}, lsi1sk: `T#${T}` }],
  ])
  const calls: string[] = []
  const io: LoadIo = {
    getAll: async (keys) => {
      calls.push(`get ${keys.map((k) => k.sk).join(',')}`)
      return keys.flatMap((k) => (table.has(k.sk) ? [table.get(k.sk)!] : []))
    },
    queryLive: async (_pk, prefix) => {
      calls.push(`query ${prefix}`)
      return [...table.values()].filter((i) => String(i.lsi1sk ?? '').startsWith(prefix))
    },
    countLive: async (_pk, prefix, status) => {
      calls.push(`count ${prefix} ${status ?? ''}`)
      return 7
    },
  }
  const user: UserLoad = { userId: 'alice', commands: [{ offset: 10, command: cmd('reservation.remove', { reservationId: R }).command }], items: new Map(), index: emptyLiveIndex() }
  await readLoads(io, [user])
  // Round 1: the reservation; round 2: its trip and the trip's rows (together).
  expect(calls[0]).toBe(`get RES#${R}`)
  expect(calls.slice(1).sort()).toEqual([`get TRIP#${T}`, `query R#${T}#`])
  expect([...user.items.keys()].sort()).toEqual([`RES#${R}`, `TRIP#${T}`])
  expect(user.index.tripReservations.get(T)).toEqual([{ sk: `RES#${R}`, startsAt: 's', endsAt: 'e', status: 'active', lastOffset: 3 }])
  expect(user.index.activeReservations).toBeUndefined()

  calls.length = 0
  const creator: UserLoad = { userId: 'alice', commands: [{ offset: 11, command: cmd('reservation.create', { reservationId: nextId(), ...flight }).command }], items: new Map(), index: emptyLiveIndex() }
  await readLoads(io, [creator])
  // One Query of every live reservation gives the active count and each trip's rows: no Query per trip.
  expect(calls.filter((c) => c.startsWith('query') || c.startsWith('count'))).toEqual(['query '])
  expect(creator.index.activeReservations).toBe(1)
  expect(creator.index.liveTrips).toBe(1)
  expect(creator.index.tripReservations.get(T)).toHaveLength(1)
  expect(creator.index.tripReservations.has('unassigned-alice')).toBe(false)
  expect(creator.index.requested.has('TRIP#unassigned-alice')).toBe(true)
})

test('emptyTableIndex: what the reads of an empty table give', () => {
  const index = emptyTableIndex([{ offset: 1, command: cmd('reservation.create', { reservationId: R, ...flight, tripId: T }).command }])
  expect([...index.requested].sort()).toEqual([`RES#${R}`, `TRIP#${T}`])
  expect(index.tripReservations).toEqual(new Map([[T, []]]))
  expect(index.activeReservations).toBe(0)
})
