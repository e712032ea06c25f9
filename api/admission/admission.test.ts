import { describe, expect, test } from 'bun:test'
import { Registry } from '../../shared/metrics/registry.ts'
import { agencyCall, call, flightBody, testApp } from '../testing.ts'

const RES = '01ARZ3NDEKTSV4RRFFQ69G5FAV'

describe('rate limits per user (token buckets, in process)', () => {
  // 3 tokens, 1 a second; a write takes 2, a read 1.
  const limits = { RATE_USER_PER_S: 1, RATE_USER_BURST: 3, RATE_WRITE_COST: 2 }

  test('past the bucket: 429 rate_limited with Retry-After in whole seconds; other users unaffected', async () => {
    const { app, registry } = testApp({ settings: limits })
    const ticket = () => call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'alice' })
    expect((await ticket()).status).toBe(201) // 3 → 1
    const refused = await ticket() // a write needs 2
    expect({ status: refused.status, code: refused.json.error.code, retryAfter: refused.headers.get('retry-after') })
      .toEqual({ status: 429, code: 'rate_limited', retryAfter: '1' })
    // A read takes the last token (the unreachable table answers 503, but the request was admitted).
    expect((await call(app, 'GET', `/v1/reservations/${RES}`, { as: 'alice' })).status).not.toBe(429)
    const read = await call(app, 'GET', `/v1/reservations/${RES}`, { as: 'alice' })
    expect({ status: read.status, retryAfter: read.headers.get('retry-after') }).toEqual({ status: 429, retryAfter: '1' })
    expect((await call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'bob' })).status).toBe(201)
    expect(registry.render()).toContain('api_rate_limited_total{scope="user"} 2')
  })

  test('a refused request produces nothing; the bucket refills with time', async () => {
    const { app, producer } = testApp({ settings: { RATE_USER_PER_S: 10, RATE_USER_BURST: 2, RATE_WRITE_COST: 2 } })
    const create = () => call(app, 'POST', '/v1/reservations', { as: 'alice', body: flightBody })
    await create()
    const sentBefore = producer.sent.length
    const r = await create()
    expect(r.status).toBe(429)
    expect(producer.sent.length).toBe(sentBefore)
    await Bun.sleep(250) // 10 a second: 2 tokens back
    expect((await create()).status).not.toBe(429)
  })

  test('unauthenticated requests do not spend a user\'s tokens (401 first, never 429)', async () => {
    const { app } = testApp({ settings: { RATE_USER_PER_S: 1, RATE_USER_BURST: 1 } })
    for (let i = 0; i < 5; i++) expect((await call(app, 'POST', '/v1/notifications/stream-tickets', { headers: { authorization: 'Bearer x.y.z' } })).status).toBe(401)
    expect((await call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'alice' })).status).toBe(201)
  })

  test('ops routes are never rate limited', async () => {
    const { app } = testApp({ settings: { RATE_USER_PER_S: 1, RATE_USER_BURST: 1 } })
    for (let i = 0; i < 20; i++) expect((await call(app, 'GET', '/healthz')).status).toBe(200)
  })

  test('a flood of distinct users keeps at most RATE_TRACKED_KEYS buckets', async () => {
    const registry = new Registry()
    const { app } = testApp({ registry, settings: { RATE_TRACKED_KEYS: 100 } })
    for (let i = 0; i < 300; i++) await call(app, 'POST', '/v1/notifications/stream-tickets', { as: `user-${i}` })
    expect(registry.render()).toMatch(/api_rate_limit_keys\{scope="user"\} 100\b/)
  })
})

describe('rate limits per agency', () => {
  const update = { reservationId: RES, change: 'cancelled', updateId: 'u-0', occurredAt: new Date().toISOString() }

  test('past the agency\'s bucket: 429 with Retry-After; a forged signature spends nothing', async () => {
    const { app } = testApp({ settings: { RATE_AGENCY_PER_S: 1, RATE_AGENCY_BURST: 2 } })
    // Forgeries first: 401, and the real agency still has its whole bucket after.
    for (let i = 0; i < 5; i++) expect((await agencyCall(app, 'demo', update, { secret: 'not-the-agency-secret-0123' })).status).toBe(401)
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await agencyCall(app, 'demo', { ...update, updateId: `u-${i}` })).status)
    expect(statuses.slice(0, 2).includes(429)).toBe(false)
    expect(statuses[2]).toBe(429)
    const again = await agencyCall(app, 'demo', { ...update, updateId: 'u-3' })
    expect({ status: again.status, code: again.json.error.code, retryAfter: again.headers.get('retry-after') }).toEqual({ status: 429, code: 'rate_limited', retryAfter: '1' })
  })
})
