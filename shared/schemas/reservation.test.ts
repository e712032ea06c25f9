import { describe, expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { AgencyUpdateBody, checkAgencyUpdate, ReservationCreateBody, ReservationPatchBody } from './reservation.ts'

const create = TypeCompiler.Compile(ReservationCreateBody)
const patch = TypeCompiler.Compile(ReservationPatchBody)
const agency = TypeCompiler.Compile(AgencyUpdateBody)

const body = {
  type: 'hotel',
  title: 'Hotel du Nord',
  startsAt: '2030-02-01T15:00:00+01:00',
  endsAt: '2030-02-03T11:00:00+01:00',
  places: [{ name: 'Hotel du Nord', lat: 48.87, lon: 2.36 }],
}

describe('ReservationCreateBody', () => {
  test('accepts a minimal and a full body', () => {
    expect(create.Check(body)).toBe(true)
    expect(
      create.Check({ ...body, tripId: 'unassigned-bob', trackingRef: 'PNR-XYZ', agencyId: 'acme', price: { amount: 120.5, currency: 'EUR' }, notes: '' }),
    ).toBe(true)
  })
  test('refuses unknown fields, bad enums and unbounded values', () => {
    expect(create.Check({ ...body, extra: 1 })).toBe(false)
    expect(create.Check({ ...body, type: 'boat' })).toBe(false)
    expect(create.Check({ ...body, title: '' })).toBe(false)
    expect(create.Check({ ...body, title: 'x'.repeat(201) })).toBe(false)
    expect(create.Check({ ...body, places: [] })).toBe(false)
    expect(create.Check({ ...body, places: Array(11).fill({ name: 'a' }) })).toBe(false)
    expect(create.Check({ ...body, places: [{ name: 'a', lat: 91 }] })).toBe(false)
    expect(create.Check({ ...body, price: { amount: -1, currency: 'EUR' } })).toBe(false)
    expect(create.Check({ ...body, price: { amount: 1, currency: 'eur' } })).toBe(false)
    expect(create.Check({ ...body, startsAt: '2030-02-01' })).toBe(false)
    const { title: _, ...noTitle } = body
    expect(create.Check(noTitle)).toBe(false)
  })
})

describe('ReservationPatchBody', () => {
  test('needs at least one field; null clears optional fields', () => {
    expect(patch.Check({})).toBe(false)
    expect(patch.Check({ title: 'New' })).toBe(true)
    expect(patch.Check({ notes: null, price: null, tripId: null })).toBe(true)
    expect(patch.Check({ title: null })).toBe(false)
    expect(patch.Check({ status: 'cancelled' })).toBe(false)
  })
})

describe('AgencyUpdateBody and checkAgencyUpdate', () => {
  const id = '01HZZZZZZZZZZZZZZZZZZZZZZZ'
  const stamp = { updateId: 'acme-2026.12.04:0001', occurredAt: '2026-12-04T10:00:00Z' }
  test('schema', () => {
    expect(agency.Check({ reservationId: id, ...stamp, change: 'cancelled' })).toBe(true)
    expect(agency.Check({ reservationId: id, ...stamp, change: 'updated', details: { title: 'x' } })).toBe(true)
    expect(agency.Check({ reservationId: id, ...stamp, change: 'updated', details: {} })).toBe(false)
    expect(agency.Check({ reservationId: id, ...stamp, change: 'updated', details: 'free text' })).toBe(false)
    expect(agency.Check({ reservationId: id, ...stamp, change: 'moved' })).toBe(false)
  })
  test('updateId and occurredAt are required; updateId is bounded, of its own alphabet', () => {
    expect(agency.Check({ reservationId: id, change: 'cancelled' })).toBe(false)
    expect(agency.Check({ reservationId: id, updateId: 'u1', change: 'cancelled' })).toBe(false)
    expect(agency.Check({ reservationId: id, occurredAt: stamp.occurredAt, change: 'cancelled' })).toBe(false)
    for (const bad of ['', 'a#b', 'a/b', 'a b', 'é', 'x'.repeat(129)]) {
      expect(agency.Check({ reservationId: id, ...stamp, updateId: bad, change: 'cancelled' })).toBe(false)
    }
    expect(agency.Check({ reservationId: id, ...stamp, updateId: 'x'.repeat(128), change: 'cancelled' })).toBe(true)
    expect(agency.Check({ reservationId: id, ...stamp, occurredAt: 'yesterday', change: 'cancelled' })).toBe(false)
    expect(checkAgencyUpdate({ reservationId: id, ...stamp, occurredAt: '2026-02-31T10:00Z', change: 'cancelled' })).toMatchObject({ field: 'occurredAt', code: 'invalid_time' })
  })
  test('cross-field rules name the field', () => {
    expect(checkAgencyUpdate({ reservationId: id, change: 'cancelled' })).toBeUndefined()
    expect(checkAgencyUpdate({ reservationId: id, change: 'rescheduled' })).toMatchObject({ field: 'startsAt', code: 'missing_times' })
    expect(checkAgencyUpdate({ reservationId: id, change: 'rescheduled', endsAt: '2030-01-01T10:00Z' })).toBeUndefined()
    expect(checkAgencyUpdate({ reservationId: id, change: 'updated' })).toMatchObject({ field: 'details', code: 'missing_details' })
    expect(
      checkAgencyUpdate({ reservationId: id, change: 'rescheduled', startsAt: '2030-01-02T10:00Z', endsAt: '2030-01-01T10:00Z' }),
    ).toMatchObject({ field: 'endsAt', code: 'ends_before_start' })
    expect(checkAgencyUpdate({ reservationId: id, change: 'rescheduled', startsAt: '2030-02-31T10:00Z' })).toMatchObject({
      field: 'startsAt',
      code: 'invalid_time',
    })
  })
})
