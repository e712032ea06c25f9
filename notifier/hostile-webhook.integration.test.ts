import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createDeflate, createGzip } from 'node:zlib'
import { LiveFeed } from '../api/notifications/live-feed.ts'
import type { Notification } from '../shared/schemas/notification.ts'
import { brokers, uniq, waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { notificationsOf, produceStatus, putSettings, SECRET, statusEvent, testEnv, type TestEnv } from './integration-support.ts'
import { createNotifier, type Notifier } from './notifier.ts'
import { DELIVERY_HEADER } from './webhook.ts'

/**
 * Hostile webhook receivers against one notifier (in this process, so its memory is this
 * process's), the real broker and dynalite:
 *   (a) answers that inflate to 300 MB (gzip, deflate) and a plain 200 MB answer: memory stays
 *       flat, each delivery completes (the status is what counts), the next one is delivered;
 *   (b) one user with 300 reservations whose receiver never answers, and one whose receiver
 *       answers 503 with Retry-After: 3600 after 900 ms: meanwhile 30 other users' changes reach
 *       their live feed (so their in-app item, written before it) and their webhook within 2 s each.
 * On the old notifier, (a) read each answer whole (the inflated 300 MB in memory) and (b) held a
 * status-partition slot per delivery for all its retries (5 x 1 s here): 300 reservations fill
 * every partition's 16 slots and the others waited behind them for seconds.
 */
let t: TestEnv
let notifier: Notifier
let feed: LiveFeed
let server: ReturnType<typeof Bun.serve>
const live = new Map<string, number>() // reservation id -> when its live notification arrived
const hooked = new Map<string, number>() // delivery id -> when its webhook call arrived
const tarpitCalls = { never: 0, slow503: 0 }
const MB = 1024 * 1024

async function compressedZeros(kind: 'gzip' | 'deflate', bytes: number): Promise<Buffer> {
  const z = kind === 'gzip' ? createGzip({ level: 9 }) : createDeflate({ level: 9 })
  const out: Buffer[] = []
  z.on('data', (c: Buffer) => out.push(c))
  const done = new Promise((resolve) => z.on('end', resolve))
  const chunk = Buffer.alloc(MB)
  for (let i = 0; i < bytes / MB; i++) if (!z.write(chunk)) await new Promise((r) => z.once('drain', r))
  z.end()
  await done
  return Buffer.concat(out)
}

function plainStream(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(120)
  let sent = 0
  return new ReadableStream({
    pull(c) {
      if (sent >= bytes) return c.close()
      sent += chunk.byteLength
      c.enqueue(chunk)
    },
  })
}

let gzipBomb: Buffer
let deflateBomb: Buffer

beforeAll(async () => {
  gzipBomb = await compressedZeros('gzip', 300 * MB)
  deflateBomb = await compressedZeros('deflate', 300 * MB)
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 60,
    fetch: async (req) => {
      const [, mode] = new URL(req.url).pathname.split('/')
      await req.arrayBuffer()
      if (mode === 'gzip') return new Response(gzipBomb, { headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' } })
      if (mode === 'deflate') return new Response(deflateBomb, { headers: { 'content-encoding': 'deflate', 'content-type': 'application/json' } })
      if (mode === 'big') return new Response(plainStream(200 * MB), { headers: { 'content-type': 'text/plain' } })
      if (mode === 'never') {
        tarpitCalls.never++
        return new Promise<Response>(() => {}) // never answers
      }
      if (mode === 'slow503') {
        tarpitCalls.slow503++
        await Bun.sleep(900)
        return new Response('busy', { status: 503, headers: { 'retry-after': '3600' } })
      }
      hooked.set(req.headers.get(DELIVERY_HEADER) ?? '', Date.now())
      return new Response(null, { status: 204 })
    },
  })
  t = await testEnv('hostile', { WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_RETRIES: '4', WEBHOOK_BACKOFF_MS: '20', WEBHOOK_BACKOFF_MAX_MS: '200' })
  feed = new LiveFeed({ brokers: brokers(), topic: t.notificationsTopic, publish: (_u, n: Notification) => { if (!live.has(n.reservationId)) live.set(n.reservationId, Date.now()) }, log: testLogger })
  await feed.start()
  notifier = createNotifier(t.settings, t.db, testLogger)
  await notifier.start()
  await waitFor('the notifier to join its groups', () => notifier.ready(), 30_000)
}, 60_000)

afterAll(async () => {
  await notifier?.stop(2000)
  await feed?.stop()
  server?.stop(true)
  await t?.close()
})

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`
const user = (p: string) => uniq(p).replace(/[^A-Za-z0-9_-]/g, '')
const webhookOk = () => notifier.metrics.notifications.get({ channel: 'webhook', outcome: 'ok' })

describe('hostile webhook receivers', () => {
  test('(a) compressed and plain oversized answers: memory stays flat, deliveries complete, the next one is delivered', async () => {
    let peak = process.memoryUsage().rss
    const base = peak
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 10)
    try {
      const before = webhookOk()
      for (const mode of ['gzip', 'deflate', 'big']) {
        const u = user(mode)
        await putSettings(t, u, { webhook: { url: url(`/${mode}/${u}`), secret: SECRET } })
        await produceStatus(t, statusEvent({ userId: u }))
      }
      await waitFor('the three oversized answers taken as deliveries', () => webhookOk() === before + 3, 30_000, 50)
      const next = user('next')
      await putSettings(t, next, { webhook: { url: url(`/ok/${next}`), secret: SECRET } })
      await produceStatus(t, statusEvent({ userId: next }))
      await waitFor('the next notification delivered', async () => {
        const [item] = await notificationsOf(t, next)
        return !!item && hooked.has(item.id)
      }, 20_000, 100)
    } finally {
      clearInterval(sampler)
    }
    const grewMb = (peak - base) / MB
    console.log(`hostile (a): rss peak grew by ${grewMb.toFixed(1)} MB over three answers of 300, 300 and 200 MB`)
    expect(grewMb).toBeLessThan(100)
    expect(notifier.metrics.deadLetters.get({ reason: 'webhook' })).toBe(0)
  }, 90_000)

  test('(b) tarpitting receivers with hundreds of reservations: other users still notified within 2 s on every channel', async () => {
    const never = user('never')
    const slow = user('slow503')
    await putSettings(t, never, { webhook: { url: url(`/never/${never}`), secret: SECRET } })
    await putSettings(t, slow, { webhook: { url: url(`/slow503/${slow}`), secret: SECRET } })
    const flood = [...Array.from({ length: 300 }, () => statusEvent({ userId: never })), ...Array.from({ length: 50 }, () => statusEvent({ userId: slow }))]
    await Promise.all(flood.map((e) => produceStatus(t, e)))
    // The hostile users' changes reached in-app, and their receivers hold calls now.
    await waitFor('the flood read and the tarpits busy', async () => (await notificationsOf(t, never)).length === 300 && tarpitCalls.never > 0 && tarpitCalls.slow503 > 0, 60_000, 250)

    const others = Array.from({ length: 30 }, (_, i) => user(`other${i}`))
    await Promise.all(others.map((u) => putSettings(t, u, { webhook: { url: url(`/ok/${u}`), secret: SECRET } })))
    const sentAt = new Map<string, number>()
    const events = others.map((u) => statusEvent({ userId: u }))
    for (const e of events) {
      sentAt.set(e.reservationId, Date.now())
      await produceStatus(t, e)
      await Bun.sleep(50)
    }
    await waitFor('every other user notified live', () => events.every((e) => live.has(e.reservationId)), 30_000, 50)
    const items = new Map((await Promise.all(others.map((u) => notificationsOf(t, u)))).flat().map((it) => [it.reservationId, it]))
    await waitFor('every other user\'s webhook', () => events.every((e) => hooked.has(items.get(e.reservationId)?.id ?? '')), 30_000, 50)

    const liveMs = events.map((e) => live.get(e.reservationId)! - sentAt.get(e.reservationId)!).sort((a, b) => a - b)
    const hookMs = events.map((e) => hooked.get(items.get(e.reservationId)!.id)! - sentAt.get(e.reservationId)!).sort((a, b) => a - b)
    console.log(`hostile (b): 30 other users while 350 hostile reservations tarpit: live (in-app before it) max ${liveMs.at(-1)} ms, p50 ${liveMs[15]} ms; webhook max ${hookMs.at(-1)} ms, p50 ${hookMs[15]} ms; tarpit calls so far: never ${tarpitCalls.never}, slow 503 ${tarpitCalls.slow503}`)
    expect(items.size).toBe(30) // in-app: one item each (written before the live publish)
    expect(liveMs.at(-1)!).toBeLessThan(2000)
    expect(hookMs.at(-1)!).toBeLessThan(2000)
    // the hostile receivers are still being worked through, one call at a time each
    expect(tarpitCalls.never).toBeLessThan(300)
  }, 150_000)
})
