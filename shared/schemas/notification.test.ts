import { expect, test } from 'bun:test'
import { decodeNotification, encodeNotification, type Notification } from './notification.ts'

const n: Notification = {
  id: '01JN0T00000000000000000000',
  userId: 'alice',
  reservationId: '01JRES00000000000000000000',
  kind: 'cancelled',
  message: 'AF 123 was cancelled',
  createdAt: 1_900_000_000_000,
  data: { tripId: 'unassigned-alice', seq: 3, status: 'cancelled', title: 'AF 123', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' },
}

test('notifications round-trip and poison is refused', () => {
  expect(decodeNotification(encodeNotification(n))).toEqual({ ok: true, notification: n })
  expect(decodeNotification(JSON.stringify({ ...n, kind: 'spam' })).ok).toBe(false)
  expect(decodeNotification('garbage').ok).toBe(false)
})
