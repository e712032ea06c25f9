import { describe, expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { StatusEventCheck } from '../schemas/status-event.ts'
import { fold, type FoldCommand } from './fold.ts'
import { FoldItem, type ReservationItem, type SettingsItem, type ShareItem, type TripItem } from './items.ts'
import { reservationSk, settingsSk, shareSk, tripSk } from './keys.ts'
import { LIMITS } from './limits.ts'
import { emptyLiveIndex } from './loads.ts'
import { UserId } from '../schemas/ids.ts'
import { TripName, TripNotes } from '../schemas/trip.ts'
import { commandFactory, FakeTable, flight, T0, USER } from './test-fixtures.ts'

const itemCheck = TypeCompiler.Compile(FoldItem)
const UNASSIGNED = 'unassigned-alice'
const DAY = 86_400_000

function setup() {
  const f = commandFactory()
  const table = new FakeTable()
  // copies: matchers must not see (or touch) the table's own objects
  const res = (id: string) => structuredClone(table.items.get(reservationSk(id))) as ReservationItem
  const trip = (id: string) => structuredClone(table.items.get(tripSk(id))) as TripItem
  const share = (tripId: string, grantee: string) => structuredClone(table.items.get(shareSk(tripId, grantee))) as ShareItem
  /** Ids of the trip's reservations as the `live` index lists them (sorted). */
  const live = (tripId: string) => table.live(`R#${tripId}#`).map((i) => (i as ReservationItem).id).sort()
  const run = (...commands: FoldCommand[]) => {
    const result = table.run(commands)
    for (const item of result.writes.values()) expect(itemCheck.Errors(item).First()).toBeUndefined()
    for (const event of result.events) expect(StatusEventCheck.Check(event)).toBe(true)
    return result
  }
  return { ...f, table, res, trip, share, live, run }
}

describe('reservation.create', () => {
  test('without a trip: lands in the lazily created Unassigned trip, with indexes and a created event', () => {
    const { cmd, nextId, run, res, trip } = setup()
    const id = nextId()
    const c = cmd('reservation.create', { reservationId: id, ...flight, notes: 'aisle', startsAt: '2030-02-01T09:00:00+01:00' })
    const out = run(c)
    expect(out.rejected).toEqual([])
    expect([...out.writes.keys()].sort()).toEqual([reservationSk(id), tripSk(UNASSIGNED)].sort())
    const r = res(id)
    expect(r).toMatchObject({
      pk: 'U#alice',
      id,
      ownerId: USER,
      tripId: UNASSIGNED,
      startsAt: '2030-02-01T08:00:00.000Z',
      status: 'active',
      version: 1,
      lastOffset: c.offset,
      createdAt: T0,
      history: [],
      gsi2pk: `R#${id}`,
      gsi3pk: `T#${UNASSIGNED}`,
      gsi3sk: `2030-02-01T08:00:00.000Z#${id}`,
      lsi1sk: `R#${UNASSIGNED}#${id}`,
    })
    expect('members' in trip(UNASSIGNED)).toBe(false)
    expect(trip(UNASSIGNED)).toMatchObject({
      unassigned: true,
      name: 'Unassigned',
      status: 'active',
      startsAt: '2030-02-01T08:00:00.000Z',
      endsAt: '2030-02-01T16:00:00.000Z',
      gsi3pk: `T#${UNASSIGNED}`,
      lsi1sk: `T#${UNASSIGNED}`,
      gsi3sk: '#TRIP',
      gsi4pk: 'END#2030-02-01',
      gsi4sk: `2030-02-01T16:00:00.000Z#alice#${UNASSIGNED}`,
      version: 1,
    })
    expect(out.events).toHaveLength(1)
    expect(out.events[0]).toMatchObject({ change: 'created', status: 'active', seq: c.offset, emittedFor: c.offset, commandId: c.command.id, reservationId: id, tripId: UNASSIGNED })
    expect(out.events[0]!.previous).toBeUndefined()
    expect(r.lastEvent).toEqual(out.events[0]!)
  })

  test('into an own trip: widens the trip span', () => {
    const { cmd, nextId, run, trip, live } = setup()
    const tripId = nextId()
    const [a, b] = [nextId(), nextId()]
    run(
      cmd('trip.create', { tripId, name: 'Montreal' }),
      cmd('reservation.create', { reservationId: a, ...flight, tripId }),
      cmd('reservation.create', { reservationId: b, ...flight, type: 'hotel', startsAt: '2030-02-01T18:00Z', endsAt: '2030-02-05T10:00Z', tripId }),
    )
    expect(trip(tripId)).toMatchObject({ startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-05T10:00:00.000Z', gsi4pk: 'END#2030-02-05' })
    expect(live(tripId)).toEqual([a, b].sort())
  })

  test('impossible creates are rejected and change nothing', () => {
    const { cmd, nextId, run, table } = setup()
    const id = nextId()
    run(cmd('reservation.create', { reservationId: id, ...flight }))
    const before = table.snapshot()
    const out = run(
      cmd('reservation.create', { reservationId: id, ...flight }),
      cmd('reservation.create', { reservationId: nextId(), ...flight, tripId: nextId() }),
      cmd('reservation.create', { reservationId: nextId(), ...flight, tripId: 'unassigned-bob' }),
      cmd('reservation.create', { reservationId: nextId(), ...flight, endsAt: '2030-01-01T00:00Z' }),
      cmd('reservation.create', { reservationId: nextId(), ...flight, startsAt: '2030-02-30T00:00Z' }),
      cmd('reservation.create', { reservationId: nextId(), ...flight }, { userId: 'bob' }),
    )
    expect(out.rejected.map((r) => r.code)).toEqual(['reservation_exists', 'trip_not_found', 'trip_not_found', 'invalid_times', 'invalid_times', 'wrong_user'])
    expect(out.rejected[3]!.reason).toContain('endsAt')
    expect(out.writes.size).toBe(0)
    expect(out.events).toEqual([])
    expect(table.items).toEqual(before)
  })
})

describe('a create sent again by the API (an idempotent retry whose first send had landed)', () => {
  test('is skipped, not refused, even after the item changed or was removed; another create of the id is still refused', () => {
    const { cmd, nextId, run, table, res, trip } = setup()
    const id = nextId()
    const tripId = nextId()
    const createTrip = cmd('trip.create', { tripId, name: 'Lisbon' })
    const create = cmd('reservation.create', { reservationId: id, ...flight, tripId })
    run(createTrip, create)
    expect(res(id).createdBy).toBe(create.command.id)
    expect(trip(tripId).createdBy).toBe(createTrip.command.id)
    run(cmd('reservation.update', { reservationId: id, patch: { title: 'changed' } }))
    const before = table.snapshot()
    const resent = run({ offset: 5000, command: create.command }, { offset: 5001, command: createTrip.command })
    expect(resent.rejected).toEqual([])
    expect(resent.skipped).toEqual([5000, 5001])
    expect(resent.writes.size).toBe(0)
    expect(resent.events).toEqual([])
    expect(table.items).toEqual(before)
    run(cmd('reservation.remove', { reservationId: id }))
    expect(run({ offset: 6000, command: create.command }).rejected).toEqual([])
    const other = cmd('reservation.create', { reservationId: id, ...flight })
    expect(run(other).rejected.map(r => r.code)).toEqual(['reservation_exists'])
  })
})

describe('reservation.update (patch)', () => {
  function created() {
    const s = setup()
    const id = s.nextId()
    s.run(s.cmd('reservation.create', { reservationId: id, ...flight, notes: 'n', price: { amount: 10, currency: 'EUR' } }))
    return { ...s, id }
  }

  test('content change: updated event with previous, history entry', () => {
    const { cmd, run, res, id } = created()
    const c = cmd('reservation.update', { reservationId: id, patch: { title: 'AF 124' } }, { at: T0 + 1000 })
    const out = run(c)
    expect(out.events).toHaveLength(1)
    expect(out.events[0]).toMatchObject({ change: 'updated', previous: { status: 'active' }, current: { title: 'AF 124' }, acceptedAt: T0 + 1000 })
    expect(res(id)).toMatchObject({ title: 'AF 124', version: 2, updatedAt: T0 + 1000, lastOffset: c.offset })
    expect(res(id).history).toEqual([{ at: T0 + 1000, offset: c.offset, commandId: c.command.id, changes: { title: { from: flight.title, to: 'AF 124' } } }])
  })

  test('notes/price only: written, version bumped, no event; null clears', () => {
    const { cmd, run, res, id } = created()
    const out = run(cmd('reservation.update', { reservationId: id, patch: { notes: null, price: null, trackingRef: 'PNR1' } }))
    expect(out.events).toEqual([])
    expect(out.writes.has(reservationSk(id))).toBe(true)
    const r = res(id)
    expect(r.version).toBe(2)
    expect('notes' in r).toBe(false)
    expect('price' in r).toBe(false)
    expect(r.trackingRef).toBe('PNR1')
    expect(r.history).toEqual([])
  })

  test('times change: rescheduled event, index and trip span follow', () => {
    const { cmd, run, res, trip, id } = created()
    const out = run(cmd('reservation.update', { reservationId: id, patch: { startsAt: '2030-02-02T08:00Z', endsAt: '2030-02-02T16:00Z' } }))
    expect(out.events[0]).toMatchObject({
      change: 'rescheduled',
      previous: { startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' },
      current: { startsAt: '2030-02-02T08:00:00.000Z' },
    })
    expect(res(id).gsi3sk).toBe(`2030-02-02T08:00:00.000Z#${id}`)
    expect(trip(UNASSIGNED)).toMatchObject({ endsAt: '2030-02-02T16:00:00.000Z', gsi4pk: 'END#2030-02-02' })
    expect(Object.keys(res(id).history[0]!.changes).sort()).toEqual(['endsAt', 'startsAt'])
  })

  test('endsAt before startsAt after the patch is rejected', () => {
    const { cmd, run, id } = created()
    const out = run(cmd('reservation.update', { reservationId: id, patch: { endsAt: '2030-01-31T00:00Z' } }))
    expect(out.rejected).toMatchObject([{ code: 'invalid_times' }])
    expect(out.writes.size).toBe(0)
  })

  test('moving between trips updates gsi3pk and both trips; null moves back to Unassigned', () => {
    const { cmd, nextId, run, res, trip, live, id } = created()
    const tripId = nextId()
    const out = run(cmd('trip.create', { tripId, name: 'MTL' }), cmd('reservation.update', { reservationId: id, patch: { tripId } }))
    expect(out.events).toEqual([])
    expect(res(id)).toMatchObject({ tripId, gsi3pk: `T#${tripId}` })
    expect(res(id).history[0]!.changes).toEqual({ tripId: { from: UNASSIGNED, to: tripId } })
    expect(trip(tripId)).toMatchObject({ startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' })
    expect(live(tripId)).toEqual([id])
    expect(live(UNASSIGNED)).toEqual([])
    expect(trip(UNASSIGNED).endsAt).toBeUndefined()
    expect(trip(UNASSIGNED).gsi4pk).toBeUndefined()
    run(cmd('reservation.update', { reservationId: id, patch: { tripId: null } }))
    expect(res(id).tripId).toBe(UNASSIGNED)
    expect(live(tripId)).toEqual([])
    expect(trip(tripId).endsAt).toBeUndefined()
    expect(live(UNASSIGNED)).toEqual([id])
    expect(trip(UNASSIGNED).endsAt).toBe('2030-02-01T16:00:00.000Z')
  })

  test('unknown reservation, removed trip target', () => {
    const { cmd, nextId, run, id } = created()
    const tripId = nextId()
    run(cmd('trip.create', { tripId, name: 'x' }), cmd('trip.remove', { tripId }))
    const out = run(
      cmd('reservation.update', { reservationId: nextId(), patch: { title: 'x' } }),
      cmd('reservation.update', { reservationId: id, patch: { tripId } }),
    )
    expect(out.rejected.map((r) => r.code)).toEqual(['reservation_not_found', 'trip_not_found'])
  })
})

describe('agency updates', () => {
  function agencyReservation() {
    const s = setup()
    const id = s.nextId()
    s.run(s.cmd('reservation.create', { reservationId: id, ...flight, agencyId: 'acme' }))
    const agency = (body: Record<string, unknown>, at = T0 + 5000) =>
      s.cmd('reservation.agency-update', { agencyId: 'acme', reservationId: id, ...body } as never, { at })
    return { ...s, id, agency }
  }

  test('cancelled: status cancelled, leaves the trip span, stays in byTrip', () => {
    const { run, res, trip, live, id, agency } = agencyReservation()
    const out = run(agency({ change: 'cancelled' }))
    expect(out.events[0]).toMatchObject({ change: 'cancelled', status: 'cancelled', previous: { status: 'active' } })
    expect(res(id)).toMatchObject({ status: 'cancelled', gsi3pk: `T#${UNASSIGNED}`, gsi2pk: `R#${id}`, lsi1sk: `R#${UNASSIGNED}#${id}` })
    expect(live(UNASSIGNED)).toEqual([id]) // still the trip's, out of its span
    expect(trip(UNASSIGNED).endsAt).toBeUndefined()
    expect(trip(UNASSIGNED).gsi4pk).toBeUndefined()
  })

  test('rescheduled: new times, history, event; only one time given keeps the other', () => {
    const { run, res, id, agency } = agencyReservation()
    const out = run(agency({ change: 'rescheduled', startsAt: '2030-02-01T10:00Z' }))
    expect(out.events[0]).toMatchObject({ change: 'rescheduled', current: { startsAt: '2030-02-01T10:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' } })
    expect(res(id).history).toHaveLength(1)
    const bad = run(agency({ change: 'rescheduled', startsAt: '2030-02-01T17:00Z' }))
    expect(bad.rejected).toMatchObject([{ code: 'invalid_times' }])
  })

  test('rescheduling a cancelled reservation reinstates it', () => {
    const { run, res, trip, id, agency } = agencyReservation()
    run(agency({ change: 'cancelled' }))
    const out = run(agency({ change: 'rescheduled', startsAt: '2030-03-01T08:00Z', endsAt: '2030-03-01T10:00Z' }))
    expect(out.events[0]).toMatchObject({ change: 'reinstated', status: 'active', previous: { status: 'cancelled' } })
    expect(res(id).status).toBe('active')
    expect(trip(UNASSIGNED).endsAt).toBe('2030-03-01T10:00:00.000Z')
  })

  test('updated: details applied, updated event', () => {
    const { run, res, id, agency } = agencyReservation()
    const out = run(agency({ change: 'updated', details: { places: [{ name: 'Orly', code: 'ORY' }], notes: 'gate B' } }))
    expect(out.events[0]).toMatchObject({ change: 'updated', current: { places: [{ name: 'Orly', code: 'ORY' }] } })
    expect(res(id).notes).toBe('gate B')
  })

  test('wrong agency, missing body parts and removed reservations are rejected', () => {
    const { cmd, run, id, agency } = agencyReservation()
    const out = run(
      cmd('reservation.agency-update', { agencyId: 'other', reservationId: id, change: 'cancelled' }),
      agency({ change: 'rescheduled' }),
      agency({ change: 'updated' }),
      cmd('reservation.remove', { reservationId: id }),
      agency({ change: 'cancelled' }),
    )
    expect(out.rejected.map((r) => r.code)).toEqual(['agency_mismatch', 'invalid_agency_update', 'invalid_agency_update', 'reservation_removed'])
  })
})

describe('reservation.remove', () => {
  test('tombstone: status removed, out of every index and the trip, removed event; later commands rejected', () => {
    const { cmd, nextId, run, res, trip, live } = setup()
    const id = nextId()
    run(cmd('reservation.create', { reservationId: id, ...flight }))
    const out = run(cmd('reservation.remove', { reservationId: id }))
    expect(out.events[0]).toMatchObject({ change: 'removed', status: 'removed', previous: { status: 'active' } })
    const r = res(id)
    expect(r).toMatchObject({ status: 'removed', deleted: true, version: 2 })
    expect(r.gsi2pk).toBeUndefined()
    expect(r.gsi3pk).toBeUndefined()
    expect(r.gsi3sk).toBeUndefined()
    expect(r.lsi1sk).toBeUndefined()
    expect(live(UNASSIGNED)).toEqual([])
    expect(trip(UNASSIGNED).endsAt).toBeUndefined()
    const again = run(cmd('reservation.remove', { reservationId: id }), cmd('reservation.update', { reservationId: id, patch: { title: 'x' } }))
    expect(again.rejected.map((x) => x.code)).toEqual(['reservation_removed', 'reservation_removed'])
  })
})

describe('net change per batch', () => {
  test('create, reschedule and rename in one batch: one created event with the final state', () => {
    const { cmd, nextId, run, res } = setup()
    const id = nextId()
    const create = cmd('reservation.create', { reservationId: id, ...flight })
    const move = cmd('reservation.update', { reservationId: id, patch: { startsAt: '2030-02-01T09:00Z' } })
    const last = cmd('reservation.update', { reservationId: id, patch: { title: 'Final' } })
    const out = run(create, move, last, cmd('reservation.update', { reservationId: id, patch: { notes: 'later' } }))
    expect(out.events).toHaveLength(1)
    expect(out.events[0]).toMatchObject({ change: 'created', current: { title: 'Final', startsAt: '2030-02-01T09:00:00.000Z' }, seq: last.offset, commandId: last.command.id })
    expect(out.events[0]!.emittedFor).toBe(last.offset + 1)
    expect(res(id).version).toBe(4)
    expect(out.writes.size).toBe(2)
  })

  test('a change undone within the batch emits nothing; create+remove emits nothing', () => {
    const { cmd, nextId, run } = setup()
    const id = nextId()
    run(cmd('reservation.create', { reservationId: id, ...flight }))
    const out = run(
      cmd('reservation.update', { reservationId: id, patch: { startsAt: '2030-02-01T09:00Z' } }),
      cmd('reservation.update', { reservationId: id, patch: { startsAt: flight.startsAt } }),
    )
    expect(out.events).toEqual([])
    expect(out.writes.size).toBe(1)
    const other = nextId()
    const out2 = run(cmd('reservation.create', { reservationId: other, ...flight }), cmd('reservation.remove', { reservationId: other }))
    expect(out2.events).toEqual([])
  })

  test('cancel then reschedule in one batch: net change is the time change, status unchanged', () => {
    const { cmd, nextId, run } = setup()
    const id = nextId()
    run(cmd('reservation.create', { reservationId: id, ...flight, agencyId: 'acme' }))
    const out = run(
      cmd('reservation.agency-update', { agencyId: 'acme', reservationId: id, change: 'cancelled' }),
      cmd('reservation.agency-update', { agencyId: 'acme', reservationId: id, change: 'rescheduled', endsAt: '2030-02-01T18:00Z' }),
    )
    expect(out.events.map((e) => e.change)).toEqual(['rescheduled'])
  })
})

describe('trips', () => {
  function tripWithShare() {
    const s = setup()
    const tripId = s.nextId()
    const [a, b] = [s.nextId(), s.nextId()]
    s.run(
      s.cmd('trip.create', { tripId, name: 'Montreal', notes: 'n' }),
      s.cmd('reservation.create', { reservationId: a, ...flight, tripId }),
      s.cmd('reservation.create', { reservationId: b, ...flight, tripId, startsAt: '2030-02-03T08:00Z', endsAt: '2030-02-04T08:00Z' }),
      s.cmd('trip.share.put', { tripId, granteeId: 'bob', role: 'dates-and-places' }),
    )
    return { ...s, tripId, a, b }
  }

  test('create and update; the new name reaches share items; notes null clears', () => {
    const { cmd, run, trip, share, tripId } = tripWithShare()
    expect(trip(tripId)).toMatchObject({ name: 'Montreal', version: 2, shares: { bob: 'dates-and-places' } })
    const out = run(cmd('trip.update', { tripId, patch: { name: 'MTL', notes: null } }))
    expect(out.events).toEqual([])
    expect(trip(tripId)).toMatchObject({ name: 'MTL', version: 3 })
    expect('notes' in trip(tripId)).toBe(false)
    expect(share(tripId, 'bob')).toMatchObject({ tripName: 'MTL', version: 2 })
    const notesOnly = run(cmd('trip.update', { tripId, patch: { notes: 'x' } }))
    expect(notesOnly.writes.has(shareSk(tripId, 'bob'))).toBe(false)
  })

  test('shares: item in byGrantee and byTrip; re-put changes role; remove tombstones; self share rejected', () => {
    const { cmd, run, trip, share, tripId } = tripWithShare()
    expect(share(tripId, 'bob')).toMatchObject({
      granteeId: 'bob',
      ownerId: USER,
      role: 'dates-and-places',
      tripName: 'Montreal',
      gsi1pk: 'G#bob',
      gsi1sk: `TRIP#${tripId}`,
      gsi3pk: `T#${tripId}`,
      gsi3sk: '~SHARE#bob',
    })
    run(cmd('trip.share.put', { tripId, granteeId: 'bob', role: 'full' }))
    expect(share(tripId, 'bob').role).toBe('full')
    expect(trip(tripId).shares).toEqual({ bob: 'full' })
    const out = run(
      cmd('trip.share.remove', { tripId, granteeId: 'bob' }),
      cmd('trip.share.remove', { tripId, granteeId: 'carol' }),
      cmd('trip.share.put', { tripId, granteeId: USER, role: 'full' }),
      cmd('trip.share.put', { tripId: UNASSIGNED, granteeId: 'bob', role: 'full' }),
    )
    expect(out.rejected.map((r) => r.code)).toEqual(['share_not_found', 'share_self', 'trip_unassigned'])
    expect(trip(tripId).shares).toEqual({})
    expect(share(tripId, 'bob')).toMatchObject({ deleted: true })
    expect(share(tripId, 'bob').gsi1pk).toBeUndefined()
    expect(share(tripId, 'bob').gsi3pk).toBeUndefined()
    run(cmd('trip.share.put', { tripId, granteeId: 'bob', role: 'full' }))
    expect(share(tripId, 'bob')).toMatchObject({ deleted: false, gsi1pk: 'G#bob', role: 'full' })
  })

  test('remove: its reservations move to Unassigned, trip and shares tombstoned, no status event', () => {
    const { cmd, nextId, run, res, trip, share, live, tripId, a, b } = tripWithShare()
    const c = nextId()
    run(cmd('reservation.create', { reservationId: c, ...flight, tripId, agencyId: 'acme' }))
    run(cmd('reservation.agency-update', { agencyId: 'acme', reservationId: c, change: 'cancelled' }))
    const removal = cmd('trip.remove', { tripId })
    const out = run(removal)
    expect(out.rejected).toEqual([])
    expect(out.events).toEqual([])
    for (const id of [a, b, c]) expect(res(id)).toMatchObject({ tripId: UNASSIGNED, gsi3pk: `T#${UNASSIGNED}`, lastOffset: removal.offset })
    expect(trip(tripId)).toMatchObject({ deleted: true, status: 'removed' })
    for (const attr of ['gsi3pk', 'gsi4pk', 'lsi1sk', 'startsAt', 'endsAt']) expect(attr in trip(tripId)).toBe(false)
    expect(share(tripId, 'bob')).toMatchObject({ deleted: true })
    expect(live(tripId)).toEqual([])
    expect(live(UNASSIGNED)).toEqual([a, b, c].sort()) // the cancelled one too
    expect(trip(UNASSIGNED).endsAt).toBe('2030-02-04T08:00:00.000Z')
    const after = run(cmd('trip.update', { tripId, patch: { name: 'x' } }), cmd('trip.remove', { tripId }), cmd('trip.remove', { tripId: UNASSIGNED }))
    expect(after.rejected.map((r) => r.code)).toEqual(['trip_not_found', 'trip_not_found', 'trip_unassigned'])
  })

  test('create rejects an existing id; unknown trips are rejected', () => {
    const { cmd, nextId, run, tripId } = tripWithShare()
    const out = run(
      cmd('trip.create', { tripId, name: 'again' }),
      cmd('trip.update', { tripId: nextId(), patch: { name: 'x' } }),
      cmd('trip.finish', { tripId: nextId() }),
      cmd('trip.share.put', { tripId: nextId(), granteeId: 'bob', role: 'full' }),
    )
    expect(out.rejected.map((r) => r.code)).toEqual(['trip_exists', 'trip_not_found', 'trip_not_found', 'trip_not_found'])
  })

  test('finish: ended reservations finish, trip leaves byEndDay; a later one keeps the trip active', () => {
    const { cmd, run, res, trip, tripId, a, b } = tripWithShare()
    // a ends 2030-02-01T16:00, b ends 2030-02-04T08:00
    const early = run(cmd('trip.finish', { tripId }, { at: Date.UTC(2030, 1, 2) }))
    expect(early.events).toMatchObject([{ reservationId: a, change: 'finished', status: 'finished' }])
    expect(res(b).status).toBe('active')
    expect(trip(tripId)).toMatchObject({ status: 'active', gsi4pk: 'END#2030-02-04', startsAt: '2030-02-03T08:00:00.000Z' })
    const late = run(cmd('trip.finish', { tripId }, { at: Date.UTC(2030, 1, 5) }))
    expect(late.events).toMatchObject([{ reservationId: b, change: 'finished' }])
    expect(trip(tripId)).toMatchObject({ status: 'finished', finishedAt: Date.UTC(2030, 1, 5) })
    expect(trip(tripId).gsi4pk).toBeUndefined()
    expect(trip(tripId).gsi3pk).toBe(`T#${tripId}`)
  })

  test('a finished trip that gets a new active reservation is active again and back in byEndDay', () => {
    const { cmd, nextId, run, trip, tripId } = tripWithShare()
    run(cmd('trip.finish', { tripId }, { at: Date.UTC(2030, 1, 5) }))
    run(cmd('reservation.create', { reservationId: nextId(), ...flight, tripId, startsAt: '2030-03-01T08:00Z', endsAt: '2030-03-01T09:00Z' }))
    expect(trip(tripId)).toMatchObject({ status: 'active', gsi4pk: 'END#2030-03-01' })
  })

  test('finishing the Unassigned trip finishes its ended reservations but never the trip itself', () => {
    const { cmd, nextId, run, trip } = setup()
    run(cmd('reservation.create', { reservationId: nextId(), ...flight }))
    const out = run(cmd('trip.finish', { tripId: UNASSIGNED }, { at: Date.UTC(2030, 2, 1) }))
    expect(out.events.map((e) => e.change)).toEqual(['finished'])
    expect(trip(UNASSIGNED).status).toBe('active')
    expect(trip(UNASSIGNED).gsi4pk).toBeUndefined()
  })
})

test('settings.put replaces the settings record', () => {
  const { cmd, run, table } = setup()
  run(cmd('settings.put', { language: 'fr', timeZone: 'Europe/Paris' }))
  run(cmd('settings.put', { webhook: { url: 'https://example.com/h', secret: 's'.repeat(16) } }, { at: T0 + 1 }))
  const settings = table.items.get(settingsSk()) as SettingsItem
  expect(settings).toMatchObject({ version: 2, createdAt: T0, updatedAt: T0 + 1, webhook: { url: 'https://example.com/h' } })
  expect('language' in settings).toBe(false)
})

test('commands for several items interleave in offset order (last change wins per item)', () => {
  const { cmd, nextId, run, res, trip, live } = setup()
  const [x, y, tripId] = [nextId(), nextId(), nextId()]
  run(
    cmd('reservation.create', { reservationId: x, ...flight }),
    cmd('trip.create', { tripId, name: 'T' }),
    cmd('reservation.update', { reservationId: x, patch: { tripId, title: 'one' } }),
    cmd('reservation.create', { reservationId: y, ...flight, tripId }),
    cmd('reservation.update', { reservationId: x, patch: { title: 'two' } }),
    cmd('trip.update', { tripId, patch: { name: 'T2' } }),
    cmd('reservation.update', { reservationId: y, patch: { tripId: null } }),
    cmd('reservation.update', { reservationId: x, patch: { title: 'three' } }),
  )
  expect(res(x)).toMatchObject({ title: 'three', tripId, version: 4 })
  expect(res(y).tripId).toBe(UNASSIGNED)
  expect(trip(tripId)).toMatchObject({ name: 'T2', startsAt: '2030-02-01T08:00:00.000Z' })
  expect(live(tripId)).toEqual([x])
  expect(live(UNASSIGNED)).toEqual([y])
})

describe('replay and idempotency', () => {
  /** A user's history touching every kind of item, in offset order. */
  function history() {
    const f = commandFactory()
    const tripId = f.nextId()
    const [a, b, c] = [f.nextId(), f.nextId(), f.nextId()]
    const commands = [
      f.cmd('trip.create', { tripId, name: 'Montreal' }),
      f.cmd('reservation.create', { reservationId: a, ...flight, tripId, agencyId: 'acme' }),
      f.cmd('reservation.create', { reservationId: b, ...flight }),
      f.cmd('trip.share.put', { tripId, granteeId: 'bob', role: 'full' }),
      f.cmd('reservation.agency-update', { agencyId: 'acme', reservationId: a, change: 'rescheduled', startsAt: '2030-02-01T09:00Z' }, { at: T0 + DAY }),
      f.cmd('reservation.update', { reservationId: b, patch: { tripId, notes: 'x' } }),
      f.cmd('trip.update', { tripId, patch: { name: 'MTL' } }),
      f.cmd('reservation.create', { reservationId: c, ...flight, tripId, startsAt: '2030-03-01T08:00Z', endsAt: '2030-03-02T08:00Z' }),
      f.cmd('reservation.update', { reservationId: b, patch: { title: 'nope' } }, { userId: 'mallory' }),
      f.cmd('trip.finish', { tripId }, { at: Date.UTC(2030, 1, 10) }),
      f.cmd('reservation.agency-update', { agencyId: 'acme', reservationId: a, change: 'cancelled' }, { at: Date.UTC(2030, 1, 11) }),
      f.cmd('trip.share.remove', { tripId, granteeId: 'bob' }),
      f.cmd('trip.remove', { tripId }),
      f.cmd('reservation.remove', { reservationId: b }),
      f.cmd('settings.put', { language: 'en' }),
    ]
    return { commands, ids: { tripId, a, b, c } }
  }

  function runInBatches(table: FakeTable, commands: FoldCommand[], size: number) {
    const events = []
    const skipped = []
    for (let i = 0; i < commands.length; i += size) {
      const out = table.run(commands.slice(i, i + size))
      events.push(...out.events)
      skipped.push(...out.skipped)
    }
    return { events, skipped }
  }

  const latestPerReservation = (events: { reservationId: string; seq: number }[]) => {
    const m = new Map<string, unknown>()
    for (const e of [...events].sort((x, y) => x.seq - y.seq)) m.set(e.reservationId, e)
    return m
  }

  test('replaying a written batch writes nothing and re-emits the stored events unchanged', () => {
    const { commands } = history()
    const table = new FakeTable()
    const first = table.run(commands)
    expect(first.rejected.map((r) => r.code)).toEqual(['wrong_user'])
    const snapshot = table.snapshot()
    const replay = table.run(commands)
    expect(replay.writes.size).toBe(0)
    expect(replay.rejected.map((r) => r.code)).toEqual(['wrong_user'])
    expect(replay.events).toEqual(first.events)
    expect(new Set(replay.skipped)).toEqual(new Set(commands.filter((c) => c.command.userId === USER).map((c) => c.offset)))
    expect(table.items).toEqual(snapshot)
  })

  for (const [original, replay] of [
    [1, 4],
    [4, 1],
    [3, 15],
    [15, 2],
  ] as const) {
    test(`batches of ${original} replayed in batches of ${replay}: same table, the last events re-emitted as they were`, () => {
      const { commands } = history()
      const table = new FakeTable()
      const first = runInBatches(table, commands, original)
      const snapshot = table.snapshot()
      const again = runInBatches(table, commands, replay)
      expect(table.items).toEqual(snapshot)
      // every event re-emitted is one the first run emitted, identical
      for (const e of again.events) expect(first.events).toContainEqual(e)
      // and the latest status of every reservation is told again
      expect(latestPerReservation(again.events)).toEqual(latestPerReservation(first.events))
    })
  }

  test('a batch half-written before a crash completes on replay with any batch size', () => {
    const { commands } = history()
    for (const replaySize of [1, 2, 5, 15]) {
      for (const keep of [0, 1]) {
        const reference = new FakeTable()
        const ref = reference.run(commands)
        const table = new FakeTable()
        const loaded = table.load(commands)
        const out = fold(USER, loaded.items, commands, loaded.index)
        // BatchWriteItem wrote only some items, then the updater died.
        let i = 0
        table.write(out.writes, () => i++ % 2 === keep)
        const again = runInBatches(table, commands, replaySize)
        // Everything but lastEvent is identical to the unbroken run; lastEvent
        // too when the replay folds in one batch as the first run did.
        const strip = (m: Map<string, FoldItem>) => new Map([...m].map(([k, v]) => [k, { ...v, lastEvent: undefined }]))
        expect(strip(table.items)).toEqual(strip(reference.items))
        if (replaySize === commands.length) expect(table.items).toEqual(reference.items)
        const last = latestPerReservation(again.events) as Map<string, { seq: number; current: unknown; status: string }>
        for (const [id, e] of latestPerReservation(ref.events) as Map<string, { seq: number; current: unknown; status: string }>) {
          expect(last.get(id)).toMatchObject({ seq: e.seq, status: e.status, current: e.current })
        }
      }
    }
  })

  test('a command at or below the item offset is skipped even if new-looking', () => {
    const { cmd, nextId, run, res } = setup()
    const id = nextId()
    const create = cmd('reservation.create', { reservationId: id, ...flight })
    const patch = cmd('reservation.update', { reservationId: id, patch: { title: 'new' } })
    run(create, patch)
    const stale = { offset: create.offset, command: { ...patch.command, id: nextId() } }
    const out = run(stale)
    expect(out.skipped).toEqual([create.offset])
    expect(out.writes.size).toBe(0)
    expect(res(id).title).toBe('new')
  })

  test('fold is pure: inputs are not mutated', () => {
    const { commands } = history()
    const table = new FakeTable()
    table.run(commands.slice(0, 5))
    const loaded = table.load(commands.slice(5))
    const copy = structuredClone(loaded)
    fold(USER, loaded.items, commands.slice(5), loaded.index)
    expect(loaded).toEqual(copy)
  })
})

test('an Unassigned trip that was not loaded is never created over the stored one', () => {
  const { cmd, nextId } = setup()
  const table = new FakeTable()
  const id = nextId()
  table.run([cmd('reservation.create', { reservationId: id, ...flight })])
  const stray = new Map([[reservationSk(id), table.items.get(reservationSk(id))!]])
  const out = fold(USER, stray, [cmd('trip.create', { tripId: nextId(), name: 'x' })], { ...emptyLiveIndex(), liveTrips: 1 })
  expect(out.writes.has(tripSk(UNASSIGNED))).toBe(false)
})

describe('limits (limits.ts): exactly at a limit accepted, one past refused', () => {
  const L = LIMITS
  /** `n` creates into `tripId` (undefined: Unassigned), in one batch. */
  const fill = (s: ReturnType<typeof setup>, n: number, tripId?: string) => {
    const ids = Array.from({ length: n }, () => s.nextId())
    const out = s.run(...ids.map((reservationId) => s.cmd('reservation.create', { reservationId, ...flight, ...(tripId ? { tripId } : {}) })))
    expect(out.rejected).toEqual([])
    return ids
  }

  test('reservations per trip: the last one fits, the next is refused with a rejected event built from the command', () => {
    const s = setup()
    const tripId = s.nextId()
    s.run(s.cmd('trip.create', { tripId, name: 'Full' }))
    fill(s, L.reservationsPerTrip - 1, tripId)
    const [last, over] = [s.nextId(), s.nextId()]
    const fits = s.cmd('reservation.create', { reservationId: last, ...flight, tripId })
    const refused = s.cmd('reservation.create', { reservationId: over, ...flight, title: 'one too many', tripId })
    const out = s.run(fits, refused)
    expect(out.rejected).toEqual([{ offset: refused.offset, commandId: refused.command.id, code: 'limit_trip_reservations', reason: `trip ${tripId} holds 500 reservations, at most 500 allowed` }])
    expect(s.live(tripId)).toHaveLength(500)
    expect(s.table.items.has(reservationSk(over))).toBe(false)
    expect(s.res(last).status).toBe('active')
    const event = out.events.find((e) => e.reservationId === over)
    expect(event).toEqual({
      v: 1,
      reservationId: over,
      userId: USER,
      tripId,
      seq: refused.offset,
      change: 'rejected',
      status: 'removed',
      current: { status: 'removed', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z', title: 'one too many', type: 'flight', places: flight.places },
      acceptedAt: T0,
      commandId: refused.command.id,
      emittedFor: refused.offset,
      rejection: { code: 'limit_trip_reservations', reason: `trip ${tripId} holds 500 reservations, at most 500 allowed` },
    })
    // Room again once one is removed.
    const again = s.run(s.cmd('reservation.remove', { reservationId: last }), s.cmd('reservation.create', { reservationId: over, ...flight, tripId }))
    expect(again.rejected).toEqual([])
    expect(s.live(tripId)).toHaveLength(500)
  })

  test('an update moving a reservation into a full trip is refused; its event carries the reservation as it stays', () => {
    const s = setup()
    const tripId = s.nextId()
    s.run(s.cmd('trip.create', { tripId, name: 'Full' }))
    fill(s, L.reservationsPerTrip, tripId)
    const [mover] = fill(s, 1)
    const move = s.cmd('reservation.update', { reservationId: mover!, patch: { tripId, title: 'moved' } })
    const out = s.run(move)
    expect(out.rejected.map((r) => r.code)).toEqual(['limit_trip_reservations'])
    expect(out.writes.size).toBe(0)
    expect(out.events).toEqual([
      expect.objectContaining({ reservationId: mover, change: 'rejected', status: 'active', tripId: UNASSIGNED, seq: move.offset, current: expect.objectContaining({ title: flight.title }) }),
    ])
    expect(s.res(mover!)).toMatchObject({ tripId: UNASSIGNED, title: flight.title })
  })

  test('trip.remove that would overfill Unassigned is refused (nothing moves); one that just fits moves all', () => {
    const s = setup()
    fill(s, L.reservationsPerTrip - 2)
    const [fits, overflows] = [s.nextId(), s.nextId()]
    s.run(s.cmd('trip.create', { tripId: fits, name: 'two' }), s.cmd('trip.create', { tripId: overflows, name: 'three' }))
    fill(s, 2, fits)
    fill(s, 3, overflows)
    const before = s.table.snapshot()
    const refused = s.run(s.cmd('trip.remove', { tripId: overflows }))
    expect(refused.rejected).toMatchObject([{ code: 'limit_trip_reservations', reason: 'the Unassigned trip holds 498 reservations and cannot take 3 more, at most 500 allowed' }])
    expect(refused.events).toEqual([]) // a trip command: the API's 422 is the user's answer
    expect(s.table.items).toEqual(before)
    expect(s.run(s.cmd('trip.remove', { tripId: fits })).rejected).toEqual([])
    expect(s.live(UNASSIGNED)).toHaveLength(500)
    expect(s.live(fits)).toEqual([])
  })

  test('active reservations per user: cancelled ones do not count; agency updates are never refused', () => {
    const s = setup()
    const trips = Array.from({ length: 5 }, () => s.nextId())
    s.run(...trips.map((tripId) => s.cmd('trip.create', { tripId, name: 't' })))
    const first = fill(s, 400, trips[0])
    s.run(s.cmd('reservation.agency-update', { agencyId: 'acme', reservationId: first[0]!, change: 'cancelled' }))
    expect(s.res(first[0]!).status).toBe('active') // not the agency's: refused, agency_mismatch
    const agencyOwned = s.nextId()
    s.run(s.cmd('reservation.create', { reservationId: agencyOwned, ...flight, agencyId: 'acme', tripId: trips[4] }))
    s.run(s.cmd('reservation.agency-update', { agencyId: 'acme', reservationId: agencyOwned, change: 'cancelled' }))
    for (const tripId of trips.slice(1, 4)) fill(s, 500, tripId)
    fill(s, L.activeReservationsPerUser - 400 - 1500, trips[4]) // exactly 2000 active
    const over = s.cmd('reservation.create', { reservationId: s.nextId(), ...flight, tripId: trips[4] })
    const out = s.run(over)
    expect(out.rejected).toMatchObject([{ code: 'limit_active_reservations', reason: '2000 active reservations, at most 2000 allowed' }])
    expect(out.events).toMatchObject([{ change: 'rejected', status: 'removed', rejection: { code: 'limit_active_reservations' } }])
    // The agency brings its cancelled reservation back: 2001 active, not refused.
    const back = s.run(s.cmd('reservation.agency-update', { agencyId: 'acme', reservationId: agencyOwned, change: 'rescheduled', startsAt: '2030-03-01T08:00Z', endsAt: '2030-03-01T10:00Z' }))
    expect(back.rejected).toEqual([])
    expect(s.res(agencyOwned).status).toBe('active')
  })

  test('trips per user: the Unassigned trip is not counted; a removed trip frees its place', () => {
    const s = setup()
    fill(s, 1) // the Unassigned trip exists
    const ids = Array.from({ length: L.tripsPerUser }, () => s.nextId())
    expect(s.run(...ids.map((tripId) => s.cmd('trip.create', { tripId, name: 't' }))).rejected).toEqual([])
    const out = s.run(s.cmd('trip.create', { tripId: s.nextId(), name: 'one more' }))
    expect(out.rejected).toMatchObject([{ code: 'limit_trips', reason: '500 trips, at most 500 allowed' }])
    expect(out.events).toEqual([])
    const freed = s.run(s.cmd('trip.remove', { tripId: ids[0]! }), s.cmd('trip.create', { tripId: s.nextId(), name: 'fits' }))
    expect(freed.rejected).toEqual([])
  })

  test('shares per trip: a new grantee past the limit is refused, a grantee already there may change role', () => {
    const s = setup()
    const tripId = s.nextId()
    s.run(s.cmd('trip.create', { tripId, name: 'shared' }))
    const grantees = Array.from({ length: L.sharesPerTrip }, (_, i) => `g${i}`)
    expect(s.run(...grantees.map((granteeId) => s.cmd('trip.share.put', { tripId, granteeId, role: 'full' }))).rejected).toEqual([])
    const out = s.run(s.cmd('trip.share.put', { tripId, granteeId: 'late', role: 'full' }), s.cmd('trip.share.put', { tripId, granteeId: 'g0', role: 'dates-and-places' }))
    expect(out.rejected).toMatchObject([{ code: 'limit_trip_shares', reason: `trip ${tripId} is shared with 50 users, at most 50 allowed` }])
    expect(s.trip(tripId).shares.g0).toBe('dates-and-places')
    expect(Object.keys(s.trip(tripId).shares)).toHaveLength(50)
    expect(s.table.items.has(shareSk(tripId, 'late'))).toBe(false)
  })

  test('a batch half-written before a crash decides each limit on replay as the first run did', () => {
    const s = setup()
    const tripId = s.nextId()
    s.run(s.cmd('trip.create', { tripId, name: 'Nearly full' }))
    fill(s, L.reservationsPerTrip - 1, tripId)
    const base = s.table.snapshot()
    const [a, b, c] = [s.nextId(), s.nextId(), s.nextId()]
    const batch = [
      s.cmd('reservation.create', { reservationId: a, ...flight, tripId }), // fits: 500
      s.cmd('reservation.remove', { reservationId: a }), // 499
      s.cmd('reservation.create', { reservationId: b, ...flight, tripId }), // fits: 500
      s.cmd('reservation.create', { reservationId: c, ...flight, tripId }), // refused
    ]
    const reference = new FakeTable()
    for (const [k, v] of base) reference.items.set(k, structuredClone(v))
    const ref = reference.run(batch)
    expect(ref.rejected.map((r) => r.offset)).toEqual([batch[3]!.offset])
    for (const keep of [0, 1]) {
      for (const replaySize of [1, 2, 4]) {
        const table = new FakeTable()
        for (const [k, v] of base) table.items.set(k, structuredClone(v))
        const loaded = table.load(batch)
        const first = fold(USER, loaded.items, batch, loaded.index)
        let i = 0
        table.write(first.writes, () => i++ % 2 === keep)
        const rejected: number[] = []
        for (let n = 0; n < batch.length; n += replaySize) rejected.push(...table.run(batch.slice(n, n + replaySize)).rejected.map((r) => r.offset))
        expect(rejected).toEqual([batch[3]!.offset])
        const strip = (m: Map<string, FoldItem>) => new Map([...m].map(([k, v]) => [k, { ...v, lastEvent: undefined }]))
        expect(strip(table.items)).toEqual(strip(reference.items))
      }
    }
  })
})

test('the largest trip item the fold can make stays far below DynamoDB’s 400 KB', () => {
  const s = setup()
  const tripId = s.nextId()
  const name = 'N'.repeat(TripName.maxLength!)
  const notes = 'n'.repeat(TripNotes.maxLength!)
  s.run(s.cmd('trip.create', { tripId, name, notes }))
  const grantee = (i: number) => `${'g'.repeat(UserId.maxLength! - 4)}${String(i).padStart(4, '0')}`
  s.run(...Array.from({ length: LIMITS.sharesPerTrip }, (_, i) => s.cmd('trip.share.put', { tripId, granteeId: grantee(i), role: 'dates-and-places' })))
  s.run(...Array.from({ length: 50 }, () => s.cmd('reservation.create', { reservationId: s.nextId(), ...flight, tripId })))
  const trip = s.trip(tripId)
  expect(Object.keys(trip.shares)).toHaveLength(LIMITS.sharesPerTrip)
  const bytes = Buffer.byteLength(JSON.stringify(trip))
  expect(bytes).toBeLessThan(40_000) // a tenth of the limit, whatever the number of reservations
})
