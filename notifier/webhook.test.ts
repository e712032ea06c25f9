import { expect, test } from 'bun:test'
import type { Notification } from '../shared/schemas/notification.ts'
import { gzipSync } from 'node:zlib'
import { classifyStatus, MAX_RESPONSE_BYTES, nextStep, parseRetryAfter, readBounded, signWebhook, verifyWebhookSignature, WebhookSender, webhookBody } from './webhook.ts'

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
  const calls: Array<{ url: string; headers: Record<string, string>; body: string }> = []
  const f = (async (url: URL, init: RequestInit) => {
    calls.push({ url: String(url), headers: init.headers as Record<string, string>, body: init.body as string })
    const a = answers[Math.min(calls.length - 1, answers.length - 1)]
    if (a === 'throw') throw new Error('ECONNREFUSED')
    return new Response(null, { status: a })
  }) as unknown as typeof fetch
  return { f, calls }
}

test('attempts carry the same delivery id, their number and a fresh signature; outcomes say whether to retry', async () => {
  const { f, calls } = fakeFetch(['throw', 500, 410, 200])
  const sender = new WebhookSender(opts, {}, f)
  const outcomes = []
  for (let i = 1; i <= 4; i++) outcomes.push(await sender.attempt(hook, n, i))
  expect(outcomes).toEqual([
    { ok: false, retry: true, reason: 'network error: ECONNREFUSED' },
    { ok: false, retry: true, status: 500, reason: 'HTTP 500' },
    { ok: false, retry: false, status: 410, reason: 'HTTP 410' },
    { ok: true, status: 200 },
  ])
  expect(new Set(calls.map((c) => c.headers['x-roadwarrior-delivery']))).toEqual(new Set([n.id]))
  expect(calls.map((c) => c.headers['x-roadwarrior-attempt'])).toEqual(['1', '2', '3', '4'])
  for (const c of calls) expect(verifyWebhookSignature(hook.secret, c.body, { signature: c.headers['x-roadwarrior-signature'], timestamp: c.headers['x-roadwarrior-timestamp'] })).toBe(true)
  expect(calls[0]!.headers['accept-encoding']).toBe('identity')
  expect(await new WebhookSender({ ...opts, allowHttp: false }, {}, f).attempt(hook, n, 1)).toMatchObject({ ok: false, retry: false })
})

test('the call goes to the checked address, with the host kept in Host (and in the TLS server name for https)', async () => {
  let seen: { url: string; init: RequestInit & { tls?: { serverName?: string }; decompress?: boolean } } | undefined
  const f = (async (url: URL, init: RequestInit) => { seen = { url: String(url), init }; return new Response(null, { status: 204 }) }) as unknown as typeof fetch
  const resolve = async () => ['93.184.216.34']
  const sender = new WebhookSender({ ...opts, allowPrivateTargets: false }, {}, f, resolve)
  expect(await sender.attempt({ ...hook, url: 'https://hooks.example.com:8443/in?x=1' }, n, 1)).toEqual({ ok: true, status: 204 })
  expect(seen!.url).toBe('https://93.184.216.34:8443/in?x=1')
  expect((seen!.init.headers as Record<string, string>).host).toBe('hooks.example.com:8443')
  expect(seen!.init.tls?.serverName).toBe('hooks.example.com')
  expect(seen!.init.decompress).toBe(false)
  const v6 = new WebhookSender({ ...opts, allowPrivateTargets: false }, {}, f, async () => ['2606:4700::1111'])
  await v6.attempt({ ...hook, url: 'https://hooks.example.com/in' }, n, 1)
  expect(seen!.url).toBe('https://[2606:4700::1111]/in')
})

test('a webhook on a private, loopback or mapped-loopback address is refused without a call unless allowed (SSRF)', async () => {
  const sent = fakeFetch([200])
  for (const url of ['http://127.0.0.1:9/hook', 'http://[::ffff:127.0.0.1]:9/hook', 'http://[64:ff9b::a00:1]/hook']) {
    const r = await new WebhookSender({ ...opts, allowPrivateTargets: false }, {}, sent.f).attempt({ ...hook, url }, n, 1)
    expect(r).toMatchObject({ ok: false, retry: false })
    expect((r as { reason: string }).reason).toContain('non-public')
  }
  expect(sent.calls.length).toBe(0)
})

test('one deadline covers the DNS lookup: a lookup that never answers ends the attempt at the timeout', async () => {
  const hanging = (_h: string, signal: AbortSignal) => new Promise<string[]>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
  const t0 = performance.now()
  const r = await new WebhookSender({ ...opts, timeoutMs: 150, allowPrivateTargets: false }, {}, fakeFetch([200]).f, hanging).attempt({ ...hook, url: 'https://tarpit-dns.example.com/' }, n, 1)
  expect(r).toMatchObject({ ok: false, retry: true, reason: 'timed out after 150 ms' })
  expect(performance.now() - t0).toBeLessThan(1000)
})

test('nextStep: retry with backoff lengthened by Retry-After up to the maximum; dead letter on a final status or after the last attempt', () => {
  const o = { retries: 3, backoffMs: 100, backoffMaxMs: 1000 }
  const half = () => 0.5
  expect(nextStep({ ok: true, status: 200 }, 1, o)).toEqual({ kind: 'delivered' })
  expect(nextStep({ ok: false, retry: true, reason: 'HTTP 503', status: 503 }, 1, o, half)).toEqual({ kind: 'retry', waitMs: 75 }) // 100: between 50 and 100
  expect(nextStep({ ok: false, retry: true, reason: 'HTTP 503', status: 503 }, 3, o, half)).toEqual({ kind: 'retry', waitMs: 300 }) // 400: between 200 and 400
  expect(nextStep({ ok: false, retry: true, reason: 'HTTP 429', status: 429, retryAfterMs: 600 }, 1, o, half)).toEqual({ kind: 'retry', waitMs: 600 })
  expect(nextStep({ ok: false, retry: true, reason: 'HTTP 503', status: 503, retryAfterMs: 3_600_000 }, 1, o, half)).toEqual({ kind: 'retry', waitMs: 1000 })
  expect(nextStep({ ok: false, retry: true, reason: 'HTTP 500', status: 500 }, 4, o)).toEqual({ kind: 'dead-letter', reason: 'gave up after 4 attempts: HTTP 500', status: 500 })
  expect(nextStep({ ok: false, retry: false, reason: 'HTTP 410', status: 410 }, 1, o)).toEqual({ kind: 'dead-letter', reason: 'HTTP 410', status: 410 })
})

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.parse('2030-01-01T00:00:00Z')
  expect(parseRetryAfter('3', now)).toBe(3000)
  expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:07 GMT', now)).toBe(7000)
  expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0)
  expect(parseRetryAfter('soon', now)).toBeUndefined()
  expect(parseRetryAfter(null, now)).toBeUndefined()
})

test('readBounded: stops at the cap on an endless body and cancels it', async () => {
  let pulled = 0
  let cancelled = false
  const endless = new ReadableStream<Uint8Array>({
    pull(c) { pulled++; c.enqueue(new Uint8Array(1000).fill(7)) },
    cancel() { cancelled = true },
  })
  const got = await readBounded(endless, MAX_RESPONSE_BYTES, AbortSignal.timeout(1000))
  expect(got.byteLength).toBe(MAX_RESPONSE_BYTES)
  expect(pulled).toBeLessThan(10)
  expect(cancelled).toBe(true)
  expect((await readBounded(new Response('short').body, MAX_RESPONSE_BYTES, AbortSignal.timeout(1000))).byteLength).toBe(5)
  const stalled = new ReadableStream<Uint8Array>({ pull() { return new Promise(() => {}) } })
  const t0 = performance.now()
  expect(await readBounded(stalled, MAX_RESPONSE_BYTES, AbortSignal.timeout(100)).catch((e: Error) => e.name)).toBe('TimeoutError')
  expect(performance.now() - t0).toBeLessThan(1000)
})

test('a gzip answer inflating to 200 MB is read as at most 4 KB of raw bytes (loopback receiver)', async () => {
  const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024))
  let acceptEncoding = 'not called'
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req) => { acceptEncoding = String(req.headers.get('accept-encoding')); return new Response(bomb, { status: 200, headers: { 'content-encoding': 'gzip' } }) } })
  try {
    const before = process.memoryUsage().rss
    const r = await new WebhookSender({ ...opts, timeoutMs: 5000 }).attempt({ ...hook, url: `http://127.0.0.1:${server.port}/bomb` }, n, 1)
    expect(r).toEqual({ ok: true, status: 200 })
    expect(acceptEncoding).toBe('identity')
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024)
  } finally {
    server.stop(true)
  }
})

test('the concurrency limit holds: a slot freed goes to the caller already waiting, never to a newcomer', async () => {
  let inFlight = 0
  let most = 0
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const f = (async () => {
    inFlight++
    most = Math.max(most, inFlight)
    await gate // the first calls all finish in the same tick
    inFlight--
    return new Response(null, { status: 204 })
  }) as unknown as typeof fetch
  const sender = new WebhookSender({ ...opts, concurrency: 2 }, {}, f)
  const first = sender.attempt(hook, n, 1)
  const all: Array<Promise<unknown>> = [first, sender.attempt(hook, n, 1), sender.attempt(hook, n, 1), sender.attempt(hook, n, 1)]
  // a newcomer arriving as soon as the first call is done, before the woken waiters have run
  all.push(first.then(() => sender.attempt(hook, n, 1)))
  await Bun.sleep(5)
  open()
  await Promise.all(all)
  expect(most).toBe(2)
  expect(sender.inFlight).toBe(0)
})

// A self-signed certificate for the name hooks.test only (no IP in it), made for this test (valid 100 years).
const HOOKS_TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmDCCAT6gAwIBAgIUHsarAGrrCT4H2Dm4TeACfLZmJFcwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKaG9va3MudGVzdDAgFw0yNjEyMDQxNzExNTBaGA8yMTI2MTEx
MDE3MTE1MFowFTETMBEGA1UEAwwKaG9va3MudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABBsEJas/EmaSFP00cD/4t7jpAi9SeBcHIRebnaim2M/mlmenitLb
0Oh3BYqLKMzXBUxPdxnjMB/lsE6gpgEfizGjajBoMB0GA1UdDgQWBBTAtyKD8Rab
m0z12Sw8WwyXXphLMjAfBgNVHSMEGDAWgBTAtyKD8Rabm0z12Sw8WwyXXphLMjAP
BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCmhvb2tzLnRlc3QwCgYIKoZIzj0E
AwIDSAAwRQIgPxw/zgIwvXFQ9kskcQacBbugeecnFxRsk3BOPRdpvk4CIQC2Yw5i
Uupk992Om722xPkEIf+wh2JRF5tpQaWlp34RYQ==
-----END CERTIFICATE-----`
const HOOKS_TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAqWdGtTmmeX+lnvR
DPLiBbXLM+BIdEn9nzdBNhrMQzahRANCAAQbBCWrPxJmkhT9NHA/+Le46QIvUngX
ByEXm52optjP5pZnp4rS29DodwWKiyjM1wVMT3cZ4zAf5bBOoKYBH4sx
-----END PRIVATE KEY-----`

test('https to the checked address: the certificate is verified against the user\'s host name (SNI), never the address', async () => {
  let host = ''
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, tls: { cert: HOOKS_TEST_CERT, key: HOOKS_TEST_KEY }, fetch: (req) => { host = String(req.headers.get('host')); return new Response(null, { status: 204 }) } })
  try {
    const resolve = async () => ['127.0.0.1'] // hooks.test and evil.test both "resolve" to the receiver
    const sender = new WebhookSender({ ...opts, timeoutMs: 5000, allowHttp: false, ca: HOOKS_TEST_CERT }, {}, fetch, resolve)
    expect(await sender.attempt({ ...hook, url: `https://hooks.test:${server.port}/in` }, n, 1)).toEqual({ ok: true, status: 204 })
    expect(host).toBe(`hooks.test:${server.port}`)
    const wrongName = await sender.attempt({ ...hook, url: `https://evil.test:${server.port}/in` }, n, 1)
    expect(wrongName).toMatchObject({ ok: false, retry: true })
    expect((wrongName as { reason: string }).reason).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
  } finally {
    server.stop(true)
  }
})
