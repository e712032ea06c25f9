import { afterAll, beforeAll, expect, test } from 'bun:test'
import { uniq, waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { decodeStatusEvent, type StatusEvent } from '../shared/schemas/status-event.ts'
import { notificationsOf, produceStatus, putSettings, readAll, SECRET, statusEvent, testEnv, WebhookSink, type TestEnv } from './integration-support.ts'
import { createNotifier } from './notifier.ts'

/**
 * The status topic is compacted: a notifier that starts cold reads each reservation once. The
 * topic here rolls segments every 100 ms and lets the (test broker's eager) log cleaner compact
 * any dirty segment at once; the test waits until reading it back shows one record per key.
 */
let t: TestEnv
const sink = new WebhookSink()

beforeAll(async () => {
  sink.start()
  t = await testEnv('compaction', {}, {
    'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.001', 'min.compaction.lag.ms': '0', 'delete.retention.ms': '100', 'max.compaction.lag.ms': '100',
  })
})
afterAll(async () => {
  sink.stop()
  await t?.close()
})

test('after compaction a cold notifier reads one record per reservation and notifies each change once', async () => {
  const userId = uniq('compact').replace(/[^A-Za-z0-9_-]/g, '')
  await putSettings(t, userId, { webhook: { url: sink.url(`/ok/${userId}`), secret: SECRET } })
  const reservations = Array.from({ length: 12 }, () => statusEvent({ userId }).reservationId)
  const latest = new Map<string, StatusEvent>()
  let seq = 1
  for (let round = 0; round < 5; round++) {
    for (const reservationId of reservations) {
      const e = statusEvent({ userId, reservationId, seq: seq++, change: round % 2 ? 'rescheduled' : 'updated', status: 'active' })
      latest.set(reservationId, e)
      await produceStatus(t, e)
    }
    await Bun.sleep(150) // the next records open new segments, the older ones become cleanable
  }
  const written = 5 * reservations.length
  // Later writes on other keys roll the segments holding the last statuses, so they can be cleaned too.
  const fillers: string[] = []
  const compacted = async () => {
    const e = statusEvent({ userId: 'filler', change: 'created', status: 'active' })
    fillers.push(e.reservationId)
    await produceStatus(t, e)
    const records = (await readAll(t.statusTopic)).filter((r) => reservations.includes(r.key))
    return records.length === reservations.length
  }
  await waitFor('the log cleaner to compact the topic', compacted, 60_000, 300)
  const records = (await readAll(t.statusTopic)).filter((r) => reservations.includes(r.key))
  expect(new Set(records.map((r) => r.key)).size).toBe(reservations.length)
  for (const r of records) {
    const d = decodeStatusEvent(r.value)
    expect(d.ok && d.event.seq).toBe(latest.get(r.key)!.seq) // compaction kept the latest status
  }

  // A cold notifier (new group: starts from the beginning) reads each reservation once.
  const run = async () => {
    const n = createNotifier({ ...t.settings, NOTIFIER_GROUP_ID: uniq('compaction-cold') }, t.db, testLogger)
    await n.start()
    const total = () => ['notified', 'duplicate', 'ignored'].reduce((a, o) => a + n.metrics.events.get({ outcome: o }), 0)
    await waitFor('the notifier to read the whole topic', () => total() >= reservations.length + fillers.length, 30_000)
    await Bun.sleep(500)
    await n.stop(2000)
    return { notified: n.metrics.events.get({ outcome: 'notified' }), duplicate: n.metrics.events.get({ outcome: 'duplicate' }), ignored: n.metrics.events.get({ outcome: 'ignored' }) }
  }
  const first = await run()
  expect(first.notified).toBe(reservations.length) // one per reservation, though 5 statuses each were written
  // records read: one per reservation (notified) + the filler records (changes users do not hear of)
  expect(first.notified + first.duplicate).toBe(reservations.length)
  expect(first.ignored).toBe(fillers.length)
  const items = await notificationsOf(t, userId)
  expect(items).toHaveLength(reservations.length)
  expect(items.map((i) => i.data.seq).sort()).toEqual([...latest.values()].map((e) => e.seq).sort())
  await waitFor('the webhooks', () => sink.delivered(`/ok/${userId}`).length === reservations.length)

  // Another cold start from the beginning: everything is recognised, nothing notified twice.
  const second = await run()
  expect(second.notified).toBe(0)
  expect(second.duplicate).toBe(reservations.length)
  expect(await notificationsOf(t, userId)).toHaveLength(reservations.length)
  expect(sink.calls.filter((c) => c.path === `/ok/${userId}`)).toHaveLength(reservations.length)
}, 120_000)
