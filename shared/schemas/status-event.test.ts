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
