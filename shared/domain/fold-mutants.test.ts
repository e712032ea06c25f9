import { expect, test } from 'bun:test'
import { fold, type FoldCommand, type FoldResult } from './fold.ts'
import type { ReservationItem, TripItem } from './items.ts'
import { reservationSk, tripSk } from './keys.ts'
import { LIMITS } from './limits.ts'
import type { LiveIndex, LiveRow } from './loads.ts'
import { commandFactory, FakeTable, flight, T0, USER } from './test-fixtures.ts'

// Cases written to kill mutants of fold.ts that the other tests let live
// (test/mutation/run.ts). Expectations come from the rules in the README and
// fold.ts's header, worked out by hand. A full trip or a user at the active
// limit is simulated by extra rows / counts in what the updater read (the
// LiveIndex), so no test has to create hundreds of reservations.

const UNASSIGNED = 'unassigned-alice'

function setup() {
  const f = commandFactory()
  const table = new FakeTable()
  /** Folds `commands` over the table as the updater would read it, `tweak` adjusting what was read; writes nothing. */
  const foldWith = (commands: FoldCommand[], tweak: (index: LiveIndex) => void = () => {}): FoldResult => {
    const { items, index } = table.load(commands)
    tweak(index)
    return fold(USER, items, commands, index)
  }
  return { ...f, table, foldWith }
}

/** `n` more live reservations in the trip, as rows of the `live` index that are not in hand. */
const padTrip = (tripId: string, n: number) => (index: LiveIndex) => {
  const rows: LiveRow[] = Array.from({ length: n }, (_, i) => ({
    sk: `R#pad-${i}`,
    startsAt: '2030-03-01T00:00:00.000Z',
    endsAt: '2030-03-02T00:00:00.000Z',
    status: 'active',
    lastOffset: 1,
  }))
  index.tripReservations.set(tripId, [...(index.tripReservations.get(tripId) ?? []), ...rows])
}

const codes = (out: FoldResult) => out.rejected.map((r) => r.code)

test('active limit: a reservation removed earlier in the batch frees its place for a create later in it', () => {
  const { cmd, nextId, table, foldWith } = setup()
  const r = nextId()
  table.run([cmd('reservation.create', { reservationId: r, ...flight })])
  // The user holds exactly the limit of active reservations, r among them.
  const atLimit = (index: LiveIndex) => {
    index.activeReservations = LIMITS.activeReservationsPerUser
  }
  const x = nextId()
  const out = foldWith([cmd('reservation.remove', { reservationId: r }), cmd('reservation.create', { reservationId: x, ...flight })], atLimit)
  expect(out.rejected).toEqual([])
  expect(out.writes.get(reservationSk(x))).toMatchObject({ status: 'active' })
  // Without the remove, the same create is one too many.
  expect(codes(foldWith([cmd('reservation.create', { reservationId: nextId(), ...flight })], atLimit))).toEqual(['limit_active_reservations'])
})

test('trip room: moving a reservation into a trip with one place left is accepted; into a full one refused', () => {
  const { cmd, nextId, table, foldWith } = setup()
  const tripId = nextId()
  const r = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Oslo' }), cmd('reservation.create', { reservationId: r, ...flight })])
  const move = () => cmd('reservation.update', { reservationId: r, patch: { tripId } })
  const fits = foldWith([move()], padTrip(tripId, LIMITS.reservationsPerTrip - 1))
  expect(fits.rejected).toEqual([])
  expect((fits.writes.get(reservationSk(r)) as ReservationItem).tripId).toBe(tripId)
  const full = foldWith([move()], padTrip(tripId, LIMITS.reservationsPerTrip))
  expect(codes(full)).toEqual(['limit_trip_reservations'])
  expect(full.writes.has(reservationSk(r))).toBe(false)
  // The user hears of it: a rejected event for r, which stays where it was.
  expect(full.events).toMatchObject([{ change: 'rejected', reservationId: r, tripId: UNASSIGNED }])
})

test('replay of a half-written batch: a reservation moved in later in the batch is counted where it was at the earlier offset', () => {
  const { cmd, nextId, table, foldWith } = setup()
  const tripId = nextId()
  const r = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Rome' }), cmd('reservation.create', { reservationId: r, ...flight })])
  const x = nextId()
  // The trip has one place left: x takes it and gives it back, then r takes it.
  const batch = [
    cmd('reservation.create', { reservationId: x, ...flight, tripId }),
    cmd('reservation.remove', { reservationId: x }),
    cmd('reservation.update', { reservationId: r, patch: { tripId } }),
  ]
  const pad = padTrip(tripId, LIMITS.reservationsPerTrip - 1)
  const first = foldWith(batch, pad)
  expect(first.rejected).toEqual([])
  // Crash after only r was written: r is now in the trip, with the move in its history.
  table.write(first.writes, (sk) => sk === reservationSk(r))
  const replay = foldWith(batch, pad)
  // At x's create r was still in Unassigned: the trip had its one place, as on the first run.
  expect(replay.rejected).toEqual([])
  expect(replay.skipped).toEqual([batch[2]!.offset])
  expect(replay.writes.get(reservationSk(x))).toMatchObject({ status: 'removed', deleted: true })
})

test('a create of an id another command created is refused, and refused again when its batch is replayed', () => {
  const { cmd, nextId, table } = setup()
  const tripId = nextId()
  const r = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Kyoto' }), cmd('reservation.create', { reservationId: r, ...flight })])
  const batch = [
    cmd('trip.create', { tripId, name: 'Kyoto again' }),
    cmd('trip.update', { tripId, patch: { name: 'Kyoto 2' } }),
    cmd('reservation.create', { reservationId: r, ...flight, title: 'again' }),
    cmd('reservation.update', { reservationId: r, patch: { title: 'changed' } }),
  ]
  const first = table.run(batch)
  expect(codes(first)).toEqual(['trip_exists', 'reservation_exists'])
  // Replayed whole (the commit was lost): the creates meet items changed at later offsets, still no replay of theirs.
  const replay = table.run(batch)
  expect(codes(replay)).toEqual(['trip_exists', 'reservation_exists'])
  expect(replay.skipped).toEqual([batch[1]!.offset, batch[3]!.offset])
  expect(replay.writes.size).toBe(0)
})

test('trip.update with a new name only keeps the notes', () => {
  const { cmd, nextId, table } = setup()
  const tripId = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Porto', notes: 'window seats' })])
  const out = table.run([cmd('trip.update', { tripId, patch: { name: 'Porto 2' } })])
  expect(out.writes.get(tripSk(tripId))).toMatchObject({ name: 'Porto 2', notes: 'window seats', version: 2 })
  expect((table.items.get(tripSk(tripId)) as TripItem).notes).toBe('window seats')
})

test('replay of a half-written batch: a reservation moved out later in the batch still fills the trip at the earlier offset', () => {
  const { cmd, nextId, table, foldWith } = setup()
  const tripId = nextId()
  const r = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Lyon' }), cmd('reservation.create', { reservationId: r, ...flight, tripId })])
  // The trip is full, r among its reservations: x is refused, then r leaves.
  const pad = padTrip(tripId, LIMITS.reservationsPerTrip - 1)
  const x = nextId()
  const batch = [cmd('reservation.create', { reservationId: x, ...flight, tripId }), cmd('reservation.update', { reservationId: r, patch: { tripId: null } })]
  const first = foldWith(batch, pad)
  expect(codes(first)).toEqual(['limit_trip_reservations'])
  // Crash after r was written (now in Unassigned, its move in its history): the replay refuses x again.
  table.write(first.writes, (sk) => sk === reservationSk(r))
  const replay = foldWith(batch, pad)
  expect(codes(replay)).toEqual(['limit_trip_reservations'])
  expect(replay.writes.has(reservationSk(x))).toBe(false)
})

test('replay of a half-written batch: a move through Unassigned makes the Unassigned trip the crash left unwritten', () => {
  const { cmd, nextId, table } = setup()
  const tripId = nextId()
  const r = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Nice' }), cmd('reservation.create', { reservationId: r, ...flight, tripId })])
  expect(table.items.has(tripSk(UNASSIGNED))).toBe(false)
  const batch = [cmd('reservation.update', { reservationId: r, patch: { tripId: null } }), cmd('reservation.update', { reservationId: r, patch: { tripId } })]
  const { items, index } = table.load(batch)
  const first = fold(USER, items, batch, index)
  expect(first.writes.get(tripSk(UNASSIGNED))).toMatchObject({ unassigned: true, name: 'Unassigned' })
  table.write(first.writes, (sk) => sk === reservationSk(r))
  const replay = table.run(batch)
  expect(replay.rejected).toEqual([])
  expect([...replay.writes.keys()]).toEqual([tripSk(UNASSIGNED)])
})

test('the Unassigned trip counts as existing from the start: offsets and times 0, version 1', () => {
  const { cmd, nextId, table } = setup()
  table.run([cmd('reservation.create', { reservationId: nextId(), ...flight }, { at: Date.UTC(2030, 5, 1) })])
  expect(table.items.get(tripSk(UNASSIGNED))).toMatchObject({ createdOffset: 0, lastOffset: 0, createdAt: 0, updatedAt: 0, version: 1 })
})

test('a trip command on the Unassigned trip is refused saying why', () => {
  const { cmd, table } = setup()
  const out = table.run([cmd('trip.update', { tripId: UNASSIGNED, patch: { name: 'x' } })])
  expect(out.rejected).toMatchObject([{ code: 'trip_unassigned', reason: 'the Unassigned trip cannot be renamed, removed or shared' }])
})

test('a reservation keeps the last 20 changes in its history, oldest dropped first', () => {
  const { cmd, nextId, table } = setup()
  const r = nextId()
  table.run([cmd('reservation.create', { reservationId: r, ...flight })])
  table.run(Array.from({ length: 22 }, (_, i) => cmd('reservation.update', { reservationId: r, patch: { title: `t${i + 1}` } })))
  const history = (table.items.get(reservationSk(r)) as ReservationItem).history
  expect(history.map((h) => h.changes.title?.to)).toEqual(Array.from({ length: 20 }, (_, i) => `t${i + 3}`))
})

test('a change of type alone is news to the user (updated event); a title patch keeps the price', () => {
  const { cmd, nextId, table } = setup()
  const r = nextId()
  table.run([cmd('reservation.create', { reservationId: r, ...flight, price: { amount: 90, currency: 'EUR' } })])
  // The event is the type change's, though a notes change follows it in the batch.
  const typeChange = cmd('reservation.update', { reservationId: r, patch: { type: 'rail' } }, { at: T0 + 1000 })
  const out = table.run([typeChange, cmd('reservation.update', { reservationId: r, patch: { notes: 'coach 5' } }, { at: T0 + 2000 })])
  expect(out.events).toMatchObject([{ change: 'updated', reservationId: r, current: { type: 'rail' }, commandId: typeChange.command.id, acceptedAt: T0 + 1000 }])
  table.run([cmd('reservation.update', { reservationId: r, patch: { title: 'TGV' } })])
  expect(table.items.get(reservationSk(r))).toMatchObject({ title: 'TGV', type: 'rail', price: { amount: 90, currency: 'EUR' } })
})

test('trips limit: trips in hand are counted once, reservations in hand not at all', () => {
  const { cmd, nextId, table, foldWith } = setup()
  const t1 = nextId()
  table.run([cmd('trip.create', { tripId: t1, name: 'One' })])
  // The user's live trips as the index counts them (t1 among them, no Unassigned trip yet).
  const trips = (n: number) => (index: LiveIndex) => {
    index.liveTrips = n
  }
  const L = LIMITS.tripsPerUser
  // One place left: a reservation created first in the batch is no trip.
  const withReservation = [cmd('reservation.create', { reservationId: nextId(), ...flight, tripId: t1 }), cmd('trip.create', { tripId: nextId(), name: 'Two' })]
  expect(foldWith(withReservation, trips(L - 1)).rejected).toEqual([])
  // One place left: the first new trip takes it, the second is refused.
  expect(codes(foldWith([cmd('trip.create', { tripId: nextId(), name: 'A' }), cmd('trip.create', { tripId: nextId(), name: 'B' })], trips(L - 1)))).toEqual(['limit_trips'])
  // Full, t1 in hand: still full.
  expect(codes(foldWith([cmd('trip.update', { tripId: t1, patch: { name: 'Uno' } }), cmd('trip.create', { tripId: nextId(), name: 'C' })], trips(L)))).toEqual(['limit_trips'])
})

test('replay: a command before the create of its reservation (a later command of the batch) is refused again', () => {
  const { cmd, nextId, table } = setup()
  const x = nextId()
  const batch = [cmd('reservation.update', { reservationId: x, patch: { title: 'early' } }), cmd('reservation.create', { reservationId: x, ...flight })]
  expect(codes(table.run(batch))).toEqual(['reservation_not_found'])
  const replay = table.run(batch)
  expect(codes(replay)).toEqual(['reservation_not_found'])
  expect(replay.skipped).toEqual([batch[1]!.offset])
})

test('shares: none with oneself, none on the Unassigned trip (removal included), each refused saying why', () => {
  const { cmd, nextId, table } = setup()
  const tripId = nextId()
  table.run([cmd('trip.create', { tripId, name: 'Bern' }), cmd('reservation.create', { reservationId: nextId(), ...flight })])
  const out = table.run([
    cmd('trip.share.put', { tripId, granteeId: USER, role: 'full' }),
    cmd('trip.share.remove', { tripId: UNASSIGNED, granteeId: 'bob' }),
  ])
  expect(out.rejected).toMatchObject([
    { code: 'share_self', reason: 'a trip cannot be shared with its owner' },
    { code: 'trip_unassigned' },
  ])
})

test('events of one offset come out in reservation id order, whatever order the batch made the reservations in', () => {
  const { cmd, nextId, table } = setup()
  const tripId = nextId()
  const ids = [nextId(), nextId(), nextId()]
  const after = Date.UTC(2030, 1, 2) // past the flights' end
  const out = table.run([
    cmd('trip.create', { tripId, name: 'Graz' }),
    ...[ids[2]!, ids[0]!, ids[1]!].map((id) => cmd('reservation.create', { reservationId: id, ...flight, tripId })),
    cmd('trip.finish', { tripId }, { at: after }),
  ])
  expect(out.events.map((e) => [e.reservationId, e.status])).toEqual(ids.map((id) => [id, 'finished']))
})
