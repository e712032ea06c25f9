import { afterAll, beforeAll, expect, test } from 'bun:test'
import { waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { produceStatus, putSettings, SECRET, statusEvent, testEnv, WebhookSink, type TestEnv } from './integration-support.ts'
import { createNotifier, type Notifier } from './notifier.ts'

/**
 * Time from a status event produced (the stand-in for the agency update: it is what the updater
 * emits once it has applied the agency's change) to the webhook call arriving at a loopback
 * receiver, over 1,000 updates at a steady 50 a second (LATENCY_RATE to change), one notifier process, 100 users with a
 * webhook each, the real broker and dynalite. Prints p50 / p99 / max.
 */
let t: TestEnv
let notifier: Notifier
const sink = new WebhookSink()

beforeAll(async () => {
  sink.start()
  t = await testEnv('latency')
  notifier = createNotifier(t.settings, t.db, testLogger)
  await notifier.start()
  await waitFor('the notifier to join its group', () => notifier.ready(), 30_000)
})
afterAll(async () => {
  await notifier?.stop(2000)
  sink.stop()
  await t?.close()
})

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

test('status event to webhook call: p50 and p99 over 1,000 updates', async () => {
  const users = Array.from({ length: 100 }, (_, i) => `lat${i}-${Date.now().toString(36)}`)
  await Promise.all(users.map((u) => putSettings(t, u, { webhook: { url: sink.url(`/ok/${u}`), secret: SECRET } })))
  const n = 1000
  const rate = Number(process.env.LATENCY_RATE ?? 50)
  const sentAt = new Map<string, number>()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    const e = statusEvent({ userId: users[i % users.length]! })
    sentAt.set(e.reservationId, Date.now())
    void produceStatus(t, e)
  }
  await waitFor('every webhook', () => sink.delivered().length >= n, 60_000, 100)
  const latencies = sink.delivered().map((c) => c.at - sentAt.get(JSON.parse(c.body).notification.reservationId)!).sort((a, b) => a - b)
  const result = { updates: latencies.length, ratePerSecond: rate, p50Ms: pct(latencies, 50), p90Ms: pct(latencies, 90), p99Ms: pct(latencies, 99), maxMs: latencies.at(-1) }
  console.log(`notifier latency (status event produced -> webhook received): ${JSON.stringify(result)}`)
  const steps = notifier.metrics.registry.render().split('\n').filter((l) => /^notifier_(step|event)_seconds_(sum|count)/.test(l))
  console.log(steps.join('\n'))
  expect(latencies).toHaveLength(n)
  expect(result.p99Ms).toBeLessThan(2000) // loose: shared CI machines; the figures are printed
}, 120_000)
