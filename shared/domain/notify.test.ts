import { expect, test } from 'bun:test'
import { NotificationCheck } from '../schemas/notification.ts'
import { sampleEvent } from './test-fixtures.ts'
import { isNewForUser, notificationFromEvent } from './notify.ts'

test('dedupe by seq', () => {
  expect(isNewForUser(undefined, { seq: 0 })).toBe(true)
  expect(isNewForUser({ lastSeq: 5 }, { seq: 6 })).toBe(true)
  expect(isNewForUser({ lastSeq: 5 }, { seq: 5 })).toBe(false)
  expect(isNewForUser({ lastSeq: 5 }, { seq: 4 })).toBe(false)
  expect(isNewForUser({}, { seq: 0 })).toBe(true) // a claim, nothing notified yet
})

test('notification from an event is valid and carries the message given', () => {
  const n = notificationFromEvent(sampleEvent, { id: '01Q45V47G00000000000000009', createdAt: 1, message: "AF 123 a changé d'horaire" })
  expect(NotificationCheck.Errors(n).First()).toBeUndefined()
  expect(n).toMatchObject({ kind: 'rescheduled', userId: 'alice', data: { seq: 42, previousStartsAt: '2030-02-01T08:00:00.000Z' } })
  expect(n.message).toBe("AF 123 a changé d'horaire")
  expect(notificationFromEvent(sampleEvent, { id: '01Q45V47G00000000000000009', createdAt: 1, message: 'x'.repeat(600) }).message.length).toBe(500)
})
