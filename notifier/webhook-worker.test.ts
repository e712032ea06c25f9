import { expect, test } from 'bun:test'
import type { SettingsItem } from '../shared/domain/items.ts'
import type { Notification } from '../shared/schemas/notification.ts'
import { testLogger } from '../test/support/logger.ts'
import type { DeadLetter } from './dead-letters.ts'
import { notifierMetrics } from './metrics.ts'
import type { StatusRecord } from './processor.ts'
import type { AttemptOutcome } from './webhook.ts'
import { decodeWebhookJob, encodeWebhookJob, type WebhookJob } from './webhook-jobs.ts'
import { WebhookWorker } from './webhook-worker.ts'

const n: Notification = {
  id: '01Q45V47G00000000000000009', userId: 'alice', reservationId: '01JRES00000000000000000000', kind: 'cancelled', message: 'AF 123 was cancelled', createdAt: 1,
  data: { tripId: 'unassigned-alice', seq: 1, status: 'cancelled', title: 'AF 123', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' },
}
const NOW = 1_900_000_000_000
const job = (over: Partial<WebhookJob> = {}): WebhookJob => ({ v: 1, notification: n, attempt: 1, notBefore: NOW, source: { topic: 'status', partition: 3, offset: '42' }, ...over })
const record = (value: string | Uint8Array): StatusRecord => ({ topic: 'status.webhooks', partition: 0, offset: 7n, key: 'alice', value: typeof value === 'string' ? Buffer.from(value) : value })
const settings: SettingsItem = { pk: 'U#alice', sk: 'SETTINGS', entity: 'settings', userId: 'alice', version: 1, lastOffset: 0, createdAt: 0, updatedAt: 0, webhook: { url: 'https://hooks.example.com/x', secret: 's'.repeat(32) } }

function worker(outcomes: AttemptOutcome[], s: SettingsItem | undefined = settings) {
  const attempts: number[] = []
  const enqueued: WebhookJob[] = []
  const letters: Array<{ key: string; letter: DeadLetter }> = []
  const w = new WebhookWorker(
    {
      settings: async () => s,
      attempt: async (_hook, j) => { attempts.push(j.attempt); return outcomes.shift()! },
      enqueue: async (j) => { enqueued.push(j) },
      deadLetter: async (key, letter) => { letters.push({ key, letter }) },
    },
    { retries: 2, backoffMs: 100, backoffMaxMs: 1000 },
    notifierMetrics(),
    testLogger,
    () => NOW,
  )
  return { w, attempts, enqueued, letters }
}
const signal = new AbortController().signal

test('jobs round-trip through their codec; a bad one does not decode', () => {
  expect(decodeWebhookJob(encodeWebhookJob(job({ attempt: 3, lastReason: 'HTTP 503' })))).toEqual({ ok: true, value: job({ attempt: 3, lastReason: 'HTTP 503' }) })
  expect(decodeWebhookJob('{"v":1}').ok).toBe(false)
})

test('a delivered attempt is the end: nothing queued, no dead letter', async () => {
  const { w, attempts, enqueued, letters } = worker([{ ok: true, status: 204 }])
  expect(await w.process(record(encodeWebhookJob(job())), signal)).toBe('delivered')
  expect([attempts, enqueued, letters]).toEqual([[1], [], []])
})

test('a retriable failure queues the next attempt (same notification, notBefore after the backoff, Retry-After capped)', async () => {
  const { w, enqueued } = worker([{ ok: false, retry: true, reason: 'HTTP 503', status: 503, retryAfterMs: 3_600_000 }])
  expect(await w.process(record(encodeWebhookJob(job())), signal)).toBe('retry')
  expect(enqueued).toEqual([job({ attempt: 2, notBefore: NOW + 1000, lastReason: 'HTTP 503' })])
})

test('the last attempt failing, or a final answer, is a dead letter keyed by reservation with the original source', async () => {
  const last = worker([{ ok: false, retry: true, reason: 'timed out after 1000 ms' }])
  expect(await last.w.process(record(encodeWebhookJob(job({ attempt: 3 }))), signal)).toBe('dead_letter')
  expect(last.enqueued).toEqual([])
  expect(last.letters).toEqual([{ key: n.reservationId, letter: { v: 1, consumer: 'notifier', reason: 'webhook', detail: 'gave up after 3 attempts: timed out after 1000 ms', at: NOW, source: { topic: 'status', partition: 3, offset: '42' }, notification: n, url: 'https://hooks.example.com/x', attempts: 3 } }])
  const final = worker([{ ok: false, retry: false, reason: 'HTTP 410', status: 410 }])
  expect(await final.w.process(record(encodeWebhookJob(job())), signal)).toBe('dead_letter')
  expect(final.letters[0]!.letter).toMatchObject({ detail: 'HTTP 410', status: 410, attempts: 1 })
})

test('a user without a webhook any more: dropped without a call; a poison job: dead letter, no call', async () => {
  const gone = worker([], { ...settings, webhook: undefined })
  expect(await gone.w.process(record(encodeWebhookJob(job())), signal)).toBe('dropped')
  expect(gone.attempts).toEqual([])
  const poison = worker([])
  expect(await poison.w.process(record('{"v":1,"not":"a job"}'), signal)).toBe('poison')
  expect(poison.letters[0]).toMatchObject({ key: 'alice', letter: { reason: 'poison', source: { topic: 'status.webhooks', offset: '7' } } })
  expect(poison.attempts).toEqual([])
})

test('a job waits for its notBefore, never longer than the backoff maximum, and a stop ends the wait', async () => {
  const { w } = worker([{ ok: true, status: 204 }])
  const t0 = performance.now()
  await w.process(record(encodeWebhookJob(job({ notBefore: NOW + 3_600_000 }))), signal) // clamped to 1 s
  expect(performance.now() - t0).toBeGreaterThanOrEqual(950)
  expect(performance.now() - t0).toBeLessThan(2000)
  const stop = new AbortController()
  setTimeout(() => stop.abort(), 20)
  expect(await worker([{ ok: true, status: 204 }]).w.process(record(encodeWebhookJob(job({ notBefore: NOW + 500 }))), stop.signal).catch((e: Error) => e.name)).toBe('StoppingError')
})
