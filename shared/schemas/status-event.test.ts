import { expect, test } from 'bun:test'
import { sampleEvent } from '../domain/test-fixtures.ts'
import { decodeStatusEvent, encodeStatusEvent, type StatusEvent } from './status-event.ts'


test('status events round-trip', () => {
  expect(decodeStatusEvent(encodeStatusEvent(sampleEvent))).toEqual({ ok: true, event: sampleEvent })
  expect(decodeStatusEvent(Buffer.from(encodeStatusEvent(sampleEvent))).ok).toBe(true)
})

test('bad status events are refused, never thrown', () => {
  expect(decodeStatusEvent(JSON.stringify({ ...sampleEvent, seq: '42' })).ok).toBe(false)
  expect(decodeStatusEvent(JSON.stringify({ ...sampleEvent, seq: -1 })).ok).toBe(false)
  expect(decodeStatusEvent(JSON.stringify({ ...sampleEvent, change: 'exploded' })).ok).toBe(false)
  for (const poison of ['', 'null', '{', new Uint8Array([0xff])]) expect(decodeStatusEvent(poison).ok).toBe(false)
  expect(() => encodeStatusEvent({ ...sampleEvent, status: 'lost' } as unknown as StatusEvent)).toThrow()
})

test('a rejected event carries its limit code and reason; other codes are refused', () => {
  const rejected: StatusEvent = {
    ...sampleEvent,
    change: 'rejected',
    status: 'removed',
    current: { ...sampleEvent.current, status: 'removed' },
    rejection: { code: 'limit_trip_reservations', reason: 'the Unassigned trip holds 500 reservations, at most 500 allowed' },
  }
  delete rejected.previous
  expect(decodeStatusEvent(encodeStatusEvent(rejected))).toEqual({ ok: true, event: rejected })
  expect(decodeStatusEvent(JSON.stringify({ ...rejected, rejection: { code: 'reservation_exists', reason: 'x' } })).ok).toBe(false)
  expect(decodeStatusEvent(JSON.stringify({ ...rejected, rejection: { code: 'limit_trips', reason: 'x'.repeat(501) } })).ok).toBe(false)
})
