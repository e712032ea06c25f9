import { expect, test } from 'bun:test'
import type { Notification } from '../shared/schemas/notification.ts'
import { classifyStatus, parseRetryAfter, signWebhook, verifyWebhookSignature, WebhookSender, webhookBody } from './webhook.ts'

const n: Notification = {
  id: '01Q45V47G00000000000000009', userId: 'alice', reservationId: '01JRES00000000000000000000', kind: 'cancelled', message: 'AF 123 was cancelled', createdAt: 1,
  data: { tripId: 'unassigned-alice', seq: 1, status: 'cancelled', title: 'AF 123', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' },
}
const hook = { url: 'http://127.0.0.1:1/hook', secret: 's'.repeat(32) }
const opts = { timeoutMs: 200, retries: 3, backoffMs: 1, backoffMaxMs: 2, concurrency: 2, allowHttp: true, allowPrivateTargets: true }

test('signature: HMAC-SHA256 of "<timestamp>.<body>", verified with a time tolerance', () => {
  const body = webhookBody(n)
  const sig = signWebhook(hook.secret, 1_900_000_000, body)
  expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/)
  expect(verifyWebhookSignature(hook.secret, body, { signature: sig, timestamp: '1900000000' }, 1_900_000_010)).toBe(true)
  expect(verifyWebhookSignature(hook.secret, body + ' ', { signature: sig, timestamp: '1900000000' }, 1_900_000_010)).toBe(false)
  expect(verifyWebhookSignature('x'.repeat(32), body, { signature: sig, timestamp: '1900000000' }, 1_900_000_010)).toBe(false)
  expect(verifyWebhookSignature(hook.secret, body, { signature: sig, timestamp: '1900000000' }, 1_900_001_000)).toBe(false)
})

test('status classes', () => {
  expect(classifyStatus(204)).toEqual({ ok: true, status: 204 })
  expect(classifyStatus(503)).toMatchObject({ ok: false, retry: true })
  expect(classifyStatus(429)).toMatchObject({ ok: false, retry: true })
  expect(classifyStatus(404)).toMatchObject({ ok: false, retry: false })
  expect(classifyStatus(301)).toMatchObject({ ok: false, retry: false })
})

function fakeFetch(answers: Array<number | 'throw'>) {
  const calls: Array<{ headers: Record<string, string>; body: string }> = []
  const f = (async (_url: string, init: RequestInit) => {
    calls.push({ headers: init.headers as Record<string, string>, body: init.body as string })
    const a = answers[Math.min(calls.length - 1, answers.length - 1)]
    if (a === 'throw') throw new Error('ECONNREFUSED')
    return new Response(null, { status: a })
  }) as unknown as typeof fetch
  return { f, calls }
}

test('retries then succeeds, with the same delivery id and a fresh signature each attempt', async () => {
  const { f, calls } = fakeFetch(['throw', 500, 503, 200])
  const r = await new WebhookSender(opts, {}, f).deliver(hook, n)
  expect(r).toEqual({ ok: true, attempts: 4 })
  expect(new Set(calls.map((c) => c.headers['x-roadwarrior-delivery']))).toEqual(new Set([n.id]))
  expect(calls.map((c) => c.headers['x-roadwarrior-attempt'])).toEqual(['1', '2', '3', '4'])
  for (const c of calls) expect(verifyWebhookSignature(hook.secret, c.body, { signature: c.headers['x-roadwarrior-signature'], timestamp: c.headers['x-roadwarrior-timestamp'] })).toBe(true)
})

test('gives up after the last retry; a final status stops at once; http refused unless allowed', async () => {
  expect(await new WebhookSender(opts, {}, fakeFetch([500]).f).deliver(hook, n)).toMatchObject({ ok: false, attempts: 4, status: 500 })
  expect(await new WebhookSender(opts, {}, fakeFetch([410]).f).deliver(hook, n)).toMatchObject({ ok: false, attempts: 1, reason: 'HTTP 410' })
  expect(await new WebhookSender({ ...opts, allowHttp: false }, {}, fakeFetch([200]).f).deliver(hook, n)).toMatchObject({ ok: false, attempts: 0 })
})

test('a webhook on a private or loopback address is refused without a call unless allowed (SSRF)', async () => {
  const sent = fakeFetch([200])
  const r = await new WebhookSender({ ...opts, allowPrivateTargets: false }, {}, sent.f).deliver({ ...hook, url: 'http://127.0.0.1:9/hook' }, n)
  expect(r).toMatchObject({ ok: false, attempts: 0 })
  expect((r as { reason: string }).reason).toContain('non-public')
  expect(sent.calls.length).toBe(0)
})

test('Retry-After: seconds or an HTTP date; it lengthens the wait, never past the backoff maximum', async () => {
  const now = Date.parse('2030-01-01T00:00:00Z')
  expect(parseRetryAfter('3', now)).toBe(3000)
  expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:07 GMT', now)).toBe(7000)
  expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0)
  expect(parseRetryAfter('soon', now)).toBeUndefined()
  expect(parseRetryAfter(null, now)).toBeUndefined()

  const at: number[] = []
  const answers = [{ status: 429, retryAfter: '1' }, { status: 503, retryAfter: '3600' }, { status: 200 }]
  const f = (async () => {
    at.push(performance.now())
    const a = answers[at.length - 1]!
    return new Response(null, { status: a.status, headers: a.retryAfter ? { 'retry-after': a.retryAfter } : {} })
  }) as unknown as typeof fetch
  const r = await new WebhookSender({ ...opts, backoffMs: 1, backoffMaxMs: 300 }, {}, f).deliver(hook, n)
  expect(r).toEqual({ ok: true, attempts: 3 })
  // Asked 1 s and 1 h: both waits are the 300 ms maximum (far above the 1 ms backoff).
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(290)
  expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(290)
  expect(at[2]! - at[1]!).toBeLessThan(2000)
})
