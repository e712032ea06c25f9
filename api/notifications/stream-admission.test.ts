import { describe, expect, test } from 'bun:test'
import { signJwt } from '../auth/jwt.ts'
import { TokenVerifier } from '../auth/verifier.ts'
import { BASE, call, JWT_SECRET, testApp } from '../testing.ts'
import { NotificationHub } from './hub.ts'

type Handler = { handle (r: Request): Promise<Response> }

/** Opens the stream; `done` resolves with everything read and when the server ended it (or after `maxMs`). */
async function open (app: Handler, o: { token?: string, ticket?: string }, maxMs = 6000) {
  const t0 = performance.now()
  const res = await app.handle(new Request(`${BASE}/v1/notifications/stream${o.ticket ? `?ticket=${o.ticket}` : ''}`, {
    headers: o.token ? { authorization: `Bearer ${o.token}` } : {}
  }))
  const reader = res.body!.getReader()
  const done = (async () => {
    let text = ''
    const dec = new TextDecoder()
    const cutoff = setTimeout(() => void reader.cancel(), maxMs)
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }))
      if (r.done) break
      text += dec.decode(r.value)
    }
    clearTimeout(cutoff)
    return { text, ms: performance.now() - t0 }
  })()
  return { res, done, close: () => reader.cancel() }
}

describe('a live stream lives as long as its credential', () => {
  test('a bearer token\'s stream ends at the token\'s expiry, with an `expired` event', async () => {
    const { app } = testApp({ tokens: new TokenVerifier({ secret: JWT_SECRET, skewS: 0 }) })
    const exp = Math.floor(Date.now() / 1000) + 2
    const s = await open(app, { token: signJwt(JWT_SECRET, { sub: 'alice', exp }) })
    expect(s.res.status).toBe(200)
    const { text, ms } = await s.done
    expect(text).toContain('event: expired')
    const endedAt = Date.now()
    expect(endedAt).toBeGreaterThanOrEqual(exp * 1000 - 50)
    expect(endedAt).toBeLessThan(exp * 1000 + 1000)
    expect(ms).toBeLessThan(4000)
  })

  test('a ticket\'s stream ends when the ticket expires', async () => {
    const { app } = testApp({ settings: { STREAM_TICKET_TTL_S: 2 } })
    const issued = await call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'alice' })
    const s = await open(app, { ticket: issued.json.ticket })
    expect(s.res.status).toBe(200)
    const { text } = await s.done
    expect(text).toContain('event: expired')
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(issued.json.expiresAt) - 50)
    expect(Date.now()).toBeLessThan(Date.parse(issued.json.expiresAt) + 1000)
  })
})

describe('streams per process are capped', () => {
  test('past SSE_MAX_STREAMS a new stream is 503 streams_full with Retry-After; room comes back when one closes', async () => {
    const hub = new NotificationHub(2, 3)
    const { app } = testApp({ hub })
    const token = (sub: string) => signJwt(JWT_SECRET, { sub, exp: Math.floor(Date.now() / 1000) + 600 })
    const a1 = await open(app, { token: token('alice') })
    const a2 = await open(app, { token: token('alice') })
    const b = await open(app, { token: token('bob') })
    expect([a1.res.status, a2.res.status, b.res.status]).toEqual([200, 200, 200])
    expect(hub.size).toBe(3)
    const refused = await call(app, 'GET', '/v1/notifications/stream', { as: 'dave' })
    expect({ status: refused.status, code: refused.json.error.code, retryAfter: refused.headers.get('retry-after') })
      .toEqual({ status: 503, code: 'streams_full', retryAfter: '5' })
    // bob below his own cap: no room for him either.
    expect((await call(app, 'GET', '/v1/notifications/stream', { as: 'bob' })).status).toBe(503)
    // alice at her own cap replaces her oldest stream: that needs no room.
    const a3 = await open(app, { token: token('alice') })
    expect(a3.res.status).toBe(200)
    expect(hub.size).toBe(3)
    expect((await a1.done).text).not.toContain('event: expired') // closed as the oldest, not expired
    await b.close()
    await Bun.sleep(20)
    expect(hub.size).toBe(2)
    const d = await open(app, { token: token('dave') })
    expect(d.res.status).toBe(200)
    for (const s of [a2, a3, d]) await s.close()
  })
})
