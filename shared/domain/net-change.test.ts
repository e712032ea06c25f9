import { expect, test } from 'bun:test'
import type { ReservationItem } from './items.ts'
import { netChange, statusEvent } from './net-change.ts'

const base = {
  id: '01Q45V47G00000000000000001',
  ownerId: 'alice',
  tripId: 'unassigned-alice',
  type: 'flight',
  title: 'A',
  startsAt: '2030-01-01T00:00:00.000Z',
  endsAt: '2030-01-01T01:00:00.000Z',
  places: [{ name: 'X' }],
  status: 'active',
  lastOffset: 9,
} as ReservationItem

test('netChange ranks status over times over content, ignores the rest', () => {
  expect(netChange(undefined, base)).toBe('created')
  expect(netChange(undefined, { ...base, status: 'removed' })).toBeUndefined()
  expect(netChange(base, { ...base, status: 'cancelled', startsAt: 'x' })).toBe('cancelled')
  expect(netChange(base, { ...base, status: 'finished' })).toBe('finished')
  expect(netChange(base, { ...base, status: 'removed' })).toBe('removed')
  expect(netChange({ ...base, status: 'cancelled' }, base)).toBe('reinstated')
  expect(netChange(base, { ...base, endsAt: '2030-01-01T02:00:00.000Z', title: 'B' })).toBe('rescheduled')
  expect(netChange(base, { ...base, places: [{ name: 'Y' }] })).toBe('updated')
  expect(netChange(base, { ...base, type: 'rail' })).toBe('updated')
  expect(netChange(base, { ...base, notes: 'n', tripId: 'T', price: { amount: 1, currency: 'EUR' } })).toBeUndefined()
  expect(netChange({ ...base, status: 'removed' }, { ...base, status: 'removed', title: 'B' })).toBeUndefined()
})

test('statusEvent: seq is the cause, emittedFor the last applied offset', () => {
  const e = statusEvent(base, { ...base, title: 'B', lastOffset: 12 }, 'updated', { offset: 11, commandId: 'C', acceptedAt: 5 })
  expect(e).toMatchObject({ seq: 11, emittedFor: 12, commandId: 'C', acceptedAt: 5, previous: { status: 'active' }, current: { title: 'B' } })
  expect('previous' in statusEvent(undefined, base, 'created', { offset: 9, commandId: 'C', acceptedAt: 5 })).toBe(false)
})
