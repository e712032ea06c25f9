import { describe, expect, test } from 'bun:test'
import type { ReservationItem } from './items.ts'
import { reservationSk } from './keys.ts'
import { commandFactory, FakeTable, flight, T0 } from './test-fixtures.ts'

/**
 * Agency updates are ordered by the agency's occurredAt, not by arrival: an update that happened no
 * later than the last one applied to the reservation changes nothing and emits nothing (skipped).
 * Expectations are written by hand from that rule.
 */

function setup() {
  const { cmd, nextId } = commandFactory()
  const table = new FakeTable()
  const id = nextId()
  table.run([cmd('reservation.create', { reservationId: id, ...flight, agencyId: 'acme' })])
  const res = () => table.items.get(reservationSk(id)) as ReservationItem
  let n = 0
  const agency = (occurredAt: string | undefined, body: Record<string, unknown>) =>
    cmd('reservation.agency-update', { agencyId: 'acme', reservationId: id, updateId: `u${++n}`, ...(occurredAt ? { occurredAt } : {}), ...body } as never, { at: T0 + 1000 * n })
  return { table, id, res, agency, cmd }
}

const CANCEL = { change: 'cancelled' }
const RESCHEDULE = { change: 'rescheduled', startsAt: '2030-02-02T08:00:00Z', endsAt: '2030-02-02T16:00:00Z' }

describe('applyAgencyUpdate orders by occurredAt', () => {
  test('the first update is applied and its occurredAt kept, normalized', () => {
    const { table, res, agency } = setup()
    const out = table.run([agency('2030-01-05T10:00:00+01:00', CANCEL)])
    expect(out.events.map((e) => e.change)).toEqual(['cancelled'])
    expect(res().status).toBe('cancelled')
    expect(res().agencyOccurredAt).toBe('2030-01-05T09:00:00.000Z')
  })

  test('a captured "cancelled" replayed after a later "rescheduled" changes nothing (separate batches)', () => {
    const { table, res, agency } = setup()
    const cancelled = agency('2030-01-05T09:00:00Z', CANCEL)
    table.run([cancelled])
    table.run([agency('2030-01-05T10:00:00Z', RESCHEDULE)])
    expect(res()).toMatchObject({ status: 'active', startsAt: '2030-02-02T08:00:00.000Z', agencyOccurredAt: '2030-01-05T10:00:00.000Z' })
    const before = structuredClone(res())
    // The same payload again, as a new command (the API would have produced it again had it not deduplicated).
    const replay = agency('2030-01-05T09:00:00Z', CANCEL)
    const out = table.run([replay])
    expect(out.events).toEqual([])
    expect(out.writes.size).toBe(0)
    expect(out.rejected).toEqual([])
    expect(out.skipped).toEqual([replay.offset])
    expect(res()).toEqual(before)
  })

  test('out of order inside one batch: the older one is skipped, the newer one wins', () => {
    const { table, res, agency } = setup()
    const newer = agency('2030-01-05T10:00:00Z', RESCHEDULE)
    const older = agency('2030-01-05T09:59:59.999Z', CANCEL)
    const out = table.run([newer, older])
    expect(out.skipped).toEqual([older.offset])
    expect(out.events.map((e) => e.change)).toEqual(['rescheduled'])
    expect(res()).toMatchObject({ status: 'active', version: 2, agencyOccurredAt: '2030-01-05T10:00:00.000Z' })
  })

  test('an equal occurredAt is not later: skipped', () => {
    const { table, res, agency } = setup()
    table.run([agency('2030-01-05T10:00:00Z', RESCHEDULE)])
    const same = agency('2030-01-05T11:00:00+01:00', CANCEL)
    const out = table.run([same])
    expect(out.skipped).toEqual([same.offset])
    expect(res().status).toBe('active')
  })

  test('later updates apply in turn, each moving the mark', () => {
    const { table, res, agency } = setup()
    table.run([agency('2030-01-05T09:00:00Z', CANCEL)])
    const out = table.run([agency('2030-01-05T09:00:00.001Z', RESCHEDULE), agency('2030-01-06T00:00:00Z', { change: 'updated', details: { notes: 'gate B' } })])
    expect(out.skipped).toEqual([])
    expect(res()).toMatchObject({ status: 'active', notes: 'gate B', agencyOccurredAt: '2030-01-06T00:00:00.000Z', version: 4 })
  })

  test('a command without occurredAt (accepted before it existed) applies unordered and keeps the mark', () => {
    const { table, res, agency } = setup()
    table.run([agency('2030-01-05T10:00:00Z', RESCHEDULE)])
    const out = table.run([agency(undefined, CANCEL)])
    expect(out.events.map((e) => e.change)).toEqual(['cancelled'])
    expect(res()).toMatchObject({ status: 'cancelled', agencyOccurredAt: '2030-01-05T10:00:00.000Z' })
  })

  test('a user edit does not move the agency mark; a stale agency update is still skipped after it', () => {
    const { table, res, agency, cmd, id } = setup()
    table.run([agency('2030-01-05T10:00:00Z', CANCEL)])
    table.run([cmd('reservation.update', { reservationId: id, patch: { title: 'Mine' } })])
    const stale = agency('2030-01-05T08:00:00Z', RESCHEDULE)
    const out = table.run([stale])
    expect(out.skipped).toEqual([stale.offset])
    expect(res()).toMatchObject({ status: 'cancelled', title: 'Mine', agencyOccurredAt: '2030-01-05T10:00:00.000Z' })
  })

  test('a skipped update replayed from Kafka is skipped again: same table, no event', () => {
    const { table, agency } = setup()
    table.run([agency('2030-01-05T10:00:00Z', RESCHEDULE)])
    const stale = agency('2030-01-05T09:00:00Z', CANCEL)
    table.run([stale])
    const snapshot = table.snapshot()
    const again = table.run([stale])
    expect(again.events).toEqual([])
    expect(again.writes.size).toBe(0)
    expect(table.snapshot()).toEqual(snapshot)
  })

  test('checks before the order still refuse: wrong agency is rejected even when stale', () => {
    const { table, cmd, id, agency } = setup()
    table.run([agency('2030-01-05T10:00:00Z', CANCEL)])
    const out = table.run([cmd('reservation.agency-update', { agencyId: 'other', reservationId: id, updateId: 'x', occurredAt: '2030-01-01T00:00:00Z', change: 'cancelled' })])
    expect(out.rejected.map((r) => r.code)).toEqual(['agency_mismatch'])
  })
})
