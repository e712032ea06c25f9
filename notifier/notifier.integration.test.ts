import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { newId } from '../shared/domain/ids.ts'
import { LiveFeed } from '../api/notifications/live-feed.ts'
import type { Notification } from '../shared/schemas/notification.ts'
import { brokers, uniq, waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { notificationsOf, produceStatus, putSettings, readAll, SECRET, statusEvent, testEnv, WebhookSink, type TestEnv } from './integration-support.ts'
import { createNotifier, type Notifier } from './notifier.ts'

let t: TestEnv
let notifier: Notifier
let feed: LiveFeed
const sink = new WebhookSink()
const live: Notification[] = []

beforeAll(async () => {
  sink.start()
  t = await testEnv('notifier')
  feed = new LiveFeed({ brokers: brokers(), topic: t.notificationsTopic, publish: (_u, n) => live.push(n), log: testLogger })
  await feed.start()
  notifier = createNotifier(t.settings, t.db, testLogger)
  await notifier.start()
  await waitFor('the notifier to join its group', () => notifier.ready(), 30_000)
})

afterAll(async () => {
  await notifier?.stop(2000)
  await feed?.stop()
  sink.stop()
  await t?.close()
})

const events = (outcome: string) => notifier.metrics.events.get({ outcome })

describe('notifier against the real stack', () => {
  test('agency cancels a reservation: one in-app notification, one signed webhook call, one live publish; the same cancel again: nothing new', async () => {
    const userId = uniq('u').replace(/[^A-Za-z0-9_-]/g, '')
    await putSettings(t, userId, { webhook: { url: sink.url(`/ok/${userId}`), secret: SECRET }, language: 'fr', timeZone: 'Europe/Paris' })
    const cancel = statusEvent({ userId, change: 'cancelled' })
    await produceStatus(t, cancel)

    await waitFor('the in-app notification', async () => (await notificationsOf(t, userId)).length === 1)
    await waitFor('the webhook call', () => sink.delivered(`/ok/${userId}`).length === 1)
    await waitFor('the live publish', () => live.some((n) => n.userId === userId))
    const [item] = await notificationsOf(t, userId)
    expect(item).toMatchObject({ entity: 'notification', userId, reservationId: cancel.reservationId, kind: 'cancelled', data: { seq: cancel.seq, status: 'cancelled' } })
    expect(item!.message).toBe('AF 123 Paris to Montreal du ven. 1 févr. 2030, 09:00 UTC+1 a été annulé') // French, Paris time
    const call = sink.delivered(`/ok/${userId}`)[0]!
    expect(call.validSignature).toBe(true)
    expect(call.delivery).toBe(item!.id)
    expect(JSON.parse(call.body)).toEqual({ type: 'notification', notification: expect.objectContaining({ id: item!.id, message: item!.message }) })
    expect(live.filter((n) => n.userId === userId).map((n) => n.id)).toEqual([item!.id])

    // the agency reports the same cancel again: the updater re-emits the same event (same seq)
    const duplicatesBefore = events('duplicate')
    await produceStatus(t, cancel)
    await waitFor('the repeat to be read', () => events('duplicate') === duplicatesBefore + 1)
    // Not a fixed wait: a sentinel, a later change of the same reservation (same key: read after
    // the repeat; same user: its webhook job and live publish follow any the repeat caused).
    const later = statusEvent({ userId, reservationId: cancel.reservationId, seq: cancel.seq + 1, change: 'rescheduled', status: 'active', previous: { status: 'active', startsAt: '2030-02-01T06:00:00.000Z', endsAt: '2030-02-01T14:00:00.000Z' } })
    await produceStatus(t, later)
    await waitFor('the sentinel in-app', async () => (await notificationsOf(t, userId)).some((n) => n.data.seq === later.seq))
    await waitFor('the sentinel webhook call', () => sink.delivered(`/ok/${userId}`).length >= 2)
    await waitFor('the sentinel live publish', () => live.filter((n) => n.userId === userId).length >= 2)
    const seqs = (await notificationsOf(t, userId)).map((n) => n.data.seq).sort((a, b) => a - b)
    expect(seqs).toEqual([cancel.seq, later.seq])
    expect(sink.calls.filter((c) => c.path === `/ok/${userId}`)).toHaveLength(2)
    expect(live.filter((n) => n.userId === userId).map((n) => n.data.seq)).toEqual([cancel.seq, later.seq])
  })

  test('a webhook failing three times then answering: delivered once, after four attempts', async () => {
    const userId = uniq('flaky').replace(/[^A-Za-z0-9_-]/g, '')
    await putSettings(t, userId, { webhook: { url: sink.url(`/flaky/3/${userId}`), secret: SECRET } })
    await produceStatus(t, statusEvent({ userId, change: 'rescheduled', status: 'active', previous: { status: 'active', startsAt: '2030-02-01T06:00:00.000Z', endsAt: '2030-02-01T14:00:00.000Z' } }))
    await waitFor('the delivery', () => sink.delivered(`/flaky/3/${userId}`).length === 1)
    await Bun.sleep(300)
    const calls = sink.calls.filter((c) => c.path === `/flaky/3/${userId}`)
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4])
    expect(new Set(calls.map((c) => c.delivery)).size).toBe(1)
    expect(calls.every((c) => c.validSignature)).toBe(true)
    expect(sink.delivered(`/flaky/3/${userId}`)).toHaveLength(1)
    expect(await notificationsOf(t, userId)).toHaveLength(1)
  })

  test('a webhook always failing: dead letter with the reason, the in-app notification kept, the partition keeps moving', async () => {
    const userId = uniq('down').replace(/[^A-Za-z0-9_-]/g, '')
    await putSettings(t, userId, { webhook: { url: sink.url(`/down/${userId}`), secret: SECRET } })
    const first = statusEvent({ userId })
    await produceStatus(t, first)
    // later changes, some of them on the same partition, are notified meanwhile and after
    const later = Array.from({ length: 24 }, () => statusEvent({ userId }))
    for (const e of later) await produceStatus(t, e)
    // five attempts, each a job through the webhook topic: a loaded machine adds a few hops' latency
    await waitFor('the dead letter', async () => (await readAll(t.dlqTopic)).some((r) => r.key === first.reservationId), 45_000, 250)
    const letters = (await readAll(t.dlqTopic)).filter((r) => r.key === first.reservationId).map((r) => JSON.parse(r.value))
    expect(letters).toHaveLength(1)
    expect(letters[0]).toMatchObject({ v: 1, consumer: 'notifier', reason: 'webhook', attempts: 5, status: 500, url: sink.url(`/down/${userId}`), notification: { reservationId: first.reservationId } })
    expect(letters[0].detail).toContain('gave up after 5 attempts: HTTP 500')
    await waitFor('every later change notified', async () => (await notificationsOf(t, userId)).length === 25, 20_000)
    expect(sink.calls.filter((c) => c.path === `/down/${userId}` && c.delivery === letters[0].notification.id)).toHaveLength(5)
    expect(notifier.metrics.deadLetters.get({ reason: 'webhook' })).toBeGreaterThanOrEqual(1)
  })

  test('a poison status record goes to the dead-letter topic and never blocks', async () => {
    const userId = uniq('poison').replace(/[^A-Za-z0-9_-]/g, '')
    const key = newId()
    await t.producer.send(t.statusTopic, key, '{"v":1,"not":"a status event"}')
    await t.producer.send(t.statusTopic, key, Buffer.from([0xff, 0xfe, 0x00]))
    const good = statusEvent({ userId, reservationId: key })
    await produceStatus(t, good)
    await waitFor('the good record after the poison ones', async () => (await notificationsOf(t, userId)).length === 1)
    const letters = (await readAll(t.dlqTopic)).filter((r) => r.key === key).map((r) => JSON.parse(r.value))
    expect(letters.map((l) => [l.reason, l.valueEncoding])).toEqual([['poison', 'utf8'], ['poison', 'base64']])
    expect(letters[0].detail).toMatch(/^\/\w*/)
    expect(letters[0].value).toBe('{"v":1,"not":"a status event"}')
    expect(notifier.metrics.events.get({ outcome: 'poison' })).toBe(2)
  })

  test('changes users do not hear of (created) are read and skipped; metrics and readiness', async () => {
    const userId = uniq('created').replace(/[^A-Za-z0-9_-]/g, '')
    const ignored = events('ignored')
    await produceStatus(t, statusEvent({ userId, change: 'created', status: 'active' }))
    await waitFor('the record to be read', () => events('ignored') === ignored + 1)
    expect(await notificationsOf(t, userId)).toHaveLength(0)
    const text = notifier.metrics.registry.render()
    for (const name of ['notifier_events_total', 'notifier_notifications_total{channel="webhook",outcome="ok"}', 'notifier_webhook_seconds_bucket', 'notifier_dead_letters_total', 'notifier_lag_records']) expect(text).toContain(name)
    expect(notifier.ready()).toBe(true)
  })
})
