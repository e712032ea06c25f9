import { describe, expect, test } from 'bun:test'
import { type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { ProduceTimeoutError } from '../shared/kafka/errors.ts'
import { agencyCall, call, flightBody, testApp, token } from './testing.ts'
import { signJwt } from './auth/jwt.ts'
import { API_POOL_CHECK } from '../infra/haproxy/config.ts'

const RES = '01ARZ3NDEKTSV4RRFFQ69G5FAV'
const TRIP = '01ARZ3NDEKTSV4RRFFQ69G5FAW'

/** Every user route with a body that passes its schema (auth is checked before anything reads it). */
const userRoutes: Array<[string, string, unknown?]> = [
  ['POST', '/v1/reservations', flightBody],
  ['GET', `/v1/reservations/${RES}`],
  ['PATCH', `/v1/reservations/${RES}`, { title: 'x' }],
  ['DELETE', `/v1/reservations/${RES}`],
  ['POST', '/v1/trips', { name: 'Canada' }],
  ['GET', '/v1/trips'],
  ['GET', `/v1/trips/${TRIP}`],
  ['PATCH', `/v1/trips/${TRIP}`, { name: 'x' }],
  ['DELETE', `/v1/trips/${TRIP}`],
  ['PUT', `/v1/trips/${TRIP}/shares/bob`, { role: 'full' }],
  ['DELETE', `/v1/trips/${TRIP}/shares/bob`],
  ['GET', '/v1/notifications'],
  ['GET', '/v1/notifications/stream'],
  ['POST', '/v1/notifications/stream-tickets'],
  ['PUT', '/v1/me/settings', { language: 'en' }],
  ['GET', '/v1/me/settings']
]

describe('authentication', () => {
  const { app, producer } = testApp()
  const now = Math.floor(Date.now() / 1000)
  const bad: Array<[string, Record<string, string>]> = [
    ['missing', {}],
    ['not bearer', { authorization: `Basic ${token('alice')}` }],
    ['malformed', { authorization: 'Bearer abc.def' }],
    ['expired', { authorization: `Bearer ${signJwt(JWT(), { sub: 'alice', exp: now - 120 })}` }],
    ['wrong secret', { authorization: `Bearer ${token('alice', { secret: 'another-secret-another-secret-another' })}` }],
    ['alg none', { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: now + 60 })).toString('base64url')}.` }],
    ['sub not a user id', { authorization: `Bearer ${signJwt(JWT(), { sub: 'a#b', exp: now + 60 })}` }],
    ['no exp', { authorization: `Bearer ${signJwt(JWT(), { sub: 'alice' } as never)}` }]
  ]
  for (const [name, headers] of bad) {
    test(`${name} token: 401 on every user route, nothing produced`, async () => {
      for (const [method, path, body] of userRoutes) {
        const r = await call(app, method, path, { headers, body })
        expect({ route: `${method} ${path}`, status: r.status, code: r.json?.error?.code }).toEqual({ route: `${method} ${path}`, status: 401, code: 'unauthorized' })
      }
      expect(producer.sent).toEqual([])
    })
  }
  test('an unauthenticated request with an invalid body is 401, not 422 (auth runs before validation)', async () => {
    const r = await call(app, 'POST', '/v1/trips', { body: { nope: 1 } })
    expect(r.status).toBe(401)
  })
})
function JWT () { return 'test-secret-test-secret-test-secret-0123' }

describe('bad input', () => {
  const { app, producer } = testApp()
  test('unknown field: 422 naming it', async () => {
    const r = await call(app, 'POST', '/v1/reservations', { as: 'alice', body: { ...flightBody, color: 'red' } })
    expect(r.status).toBe(422)
    expect(r.json.error.code).toBe('validation_failed')
    expect(r.json.error.details[0].field).toBe('body.color')
  })
  test('a nested field with the wrong type: 422 naming the path', async () => {
    const r = await call(app, 'POST', '/v1/reservations', { as: 'alice', body: { ...flightBody, price: { amount: 'x', currency: 'EUR' } } })
    expect(r.status).toBe(422)
    expect(r.json.error.details.map((d: { field: string }) => d.field)).toContain('body.price.amount')
  })
  test('missing required field, too long string, bad enum', async () => {
    const { title: _, ...noTitle } = flightBody
    for (const [body, field] of [[noTitle, 'body.title'], [{ ...flightBody, title: 'x'.repeat(201) }, 'body.title'], [{ ...flightBody, type: 'boat' }, 'body.type']] as const) {
      const r = await call(app, 'POST', '/v1/reservations', { as: 'alice', body })
      expect(r.status).toBe(422)
      expect(r.json.error.details.map((d: { field: string }) => d.field)).toContain(field)
    }
  })
  test('dates must parse and endsAt >= startsAt', async () => {
    const r1 = await call(app, 'POST', '/v1/reservations', { as: 'alice', body: { ...flightBody, startsAt: '2030-02-30T08:00:00Z' } })
    expect(r1.status).toBe(422)
    expect(r1.json.error.details[0].field).toBe('body.startsAt')
    const r2 = await call(app, 'POST', '/v1/reservations', { as: 'alice', body: { ...flightBody, endsAt: '2030-02-01T07:00:00Z' } })
    expect(r2.status).toBe(422)
    expect(r2.json.error.details[0]).toMatchObject({ field: 'body.endsAt', code: 'ends_before_start' })
    const r3 = await call(app, 'POST', '/v1/reservations', { as: 'alice', body: { ...flightBody, startsAt: 'tomorrow' } })
    expect(r3.status).toBe(422)
  })
  test('malformed JSON: 400', async () => {
    const r = await call(app, 'POST', '/v1/trips', { as: 'alice', body: '{"name": ' })
    expect(r.status).toBe(400)
    expect(r.json.error.code).toBe('malformed_json')
  })
  test('body over the limit: 413', async () => {
    const r = await call(app, 'POST', '/v1/trips', { as: 'alice', body: JSON.stringify({ name: 'x', notes: 'y'.repeat(70_000) }) })
    expect(r.status).toBe(413)
    expect(r.json.error.code).toBe('payload_too_large')
  })
  test('bad path id, bad query, bad cursor, bad Idempotency-Key: 422', async () => {
    expect((await call(app, 'GET', '/v1/reservations/not-an-id', { as: 'alice' })).json.error.details[0].field).toBe('params.id')
    expect((await call(app, 'GET', '/v1/trips?limit=0', { as: 'alice' })).status).toBe(422)
    expect((await call(app, 'GET', '/v1/trips?color=red', { as: 'alice' })).status).toBe(422)
    const c = await call(app, 'GET', '/v1/trips?cursor=abc', { as: 'alice' })
    expect(c.status).toBe(422)
    expect(c.json.error.details[0].field).toBe('query.cursor')
    const k = await call(app, 'POST', '/v1/trips', { as: 'alice', body: { name: 'x' }, headers: { 'idempotency-key': 'x'.repeat(200) } })
    expect(k.status).toBe(422)
  })
  test('unknown time zone, sharing with oneself: 422 naming the field', async () => {
    const r = await call(app, 'PUT', '/v1/me/settings', { as: 'alice', body: { timeZone: 'Mars/Olympus' } })
    expect(r.status).toBe(422)
    expect(r.json.error.details[0].field).toBe('body.timeZone')
  })
  test('unknown route: 404 in the error shape', async () => {
    const r = await call(app, 'GET', '/v1/nothing', { as: 'alice' })
    expect(r.status).toBe(404)
    expect(r.json.error.code).toBe('not_found')
  })
  test('nothing was produced by any of these', () => { expect(producer.sent).toEqual([]) })
})

/** A table with nothing in it: creates read only the limit counts (api/limits.test.ts), here all 0. */
const emptyDb = () => ({ send: async () => ({ Count: 0, Items: [] }) }) as unknown as DynamoDBDocumentClient

describe('writes that need no read but the limit counts', () => {
  test('POST /v1/trips: 202 after the ack, Location, the command keyed by the owner', async () => {
    const { app, producer } = testApp({ db: emptyDb() })
    const r = await call(app, 'POST', '/v1/trips', { as: 'alice', body: { name: 'Canada', notes: 'n' } })
    expect(r.status).toBe(202)
    expect(r.json).toEqual({ id: expect.stringMatching(/^[0-9A-Z]{26}$/), status: 'accepted' })
    expect(r.headers.get('location')).toBe(`/v1/trips/${r.json.id}`)
    expect(producer.sent).toHaveLength(1)
    expect(producer.sent[0]!.key).toBe('alice')
    expect(producer.sent[0]!.command).toMatchObject({ type: 'trip.create', userId: 'alice', actorId: 'alice', payload: { tripId: r.json.id, name: 'Canada', notes: 'n' } })
  })
  test('POST /v1/reservations without tripId goes to the Unassigned trip (no tripId in the command)', async () => {
    const { app, producer } = testApp({ db: emptyDb() })
    const r = await call(app, 'POST', '/v1/reservations', { as: 'alice', body: flightBody })
    expect(r.status).toBe(202)
    expect(producer.sent[0]!.command).toMatchObject({ type: 'reservation.create', userId: 'alice', payload: { reservationId: r.json.id, title: flightBody.title } })
    expect((producer.sent[0]!.command.payload as { tripId?: string }).tripId).toBeUndefined()
  })
  test('PUT /v1/me/settings: 202 and settings.put', async () => {
    const { app, producer } = testApp()
    const r = await call(app, 'PUT', '/v1/me/settings', { as: 'alice', body: { language: 'fr', timeZone: 'Europe/Paris', webhook: { url: 'https://example.com/hook', secret: 'a-very-secret-value' } } })
    expect(r.status).toBe(202)
    expect(producer.sent[0]!.command).toMatchObject({ type: 'settings.put', userId: 'alice', payload: { language: 'fr', timeZone: 'Europe/Paris' } })
  })
  test('Kafka cannot take the command: 503 with Retry-After, never 202', async () => {
    const { app, producer } = testApp({ db: emptyDb() })
    producer.fail = new ProduceTimeoutError(2000)
    const r = await call(app, 'POST', '/v1/trips', { as: 'alice', body: { name: 'Canada' } })
    expect(r.status).toBe(503)
    expect(r.headers.get('retry-after')).toBe('1')
    expect(r.json.error.code).toBe('kafka_unavailable')
  })
})

describe('faults of DynamoDB', () => {
  test('DynamoDB unreachable on a read: 503 with Retry-After', async () => {
    const { app } = testApp()
    for (const path of [`/v1/reservations/${RES}`, `/v1/trips/${TRIP}`, '/v1/trips', '/v1/notifications', '/v1/me/settings']) {
      const r = await call(app, 'GET', path, { as: 'alice' })
      expect({ path, status: r.status, code: r.json.error.code }).toEqual({ path, status: 503, code: 'dynamodb_unavailable' })
      expect(r.headers.get('retry-after')).toBe('1')
    }
  })
  test('Idempotency-Key with DynamoDB unreachable: 503, nothing produced', async () => {
    const { app, producer } = testApp()
    const r = await call(app, 'POST', '/v1/trips', { as: 'alice', body: { name: 'x' }, headers: { 'idempotency-key': 'k1' } })
    expect(r.status).toBe(503)
    expect(producer.sent).toEqual([])
  })
})

describe('agencies: signature first', () => {
  const { app, producer } = testApp()
  const stamp = { updateId: 'u-1', occurredAt: '2026-01-01T00:00:00Z' }
  const body = { reservationId: RES, ...stamp, change: 'cancelled' }
  test('bad, missing or foreign signature, unknown agency: 401', async () => {
    expect((await agencyCall(app, 'demo', body, { secret: 'wrong-secret-wrong' })).status).toBe(401)
    expect((await agencyCall(app, 'demo', body, { signature: 'sha256=zz' })).status).toBe(401)
    expect((await agencyCall(app, 'nobody', body)).status).toBe(401)
    const r = await call(app, 'POST', '/v1/agencies/demo/updates', { body })
    expect(r.status).toBe(401)
    expect(r.json.error.code).toBe('unauthorized')
  })
  test('signed but invalid: 422 (schema) or 400 (not JSON); the rules across fields name the field', async () => {
    expect((await agencyCall(app, 'demo', { ...body, extra: 1 })).status).toBe(422)
    expect((await agencyCall(app, 'demo', '{oops')).status).toBe(400)
    const r = await agencyCall(app, 'demo', { reservationId: RES, ...stamp, change: 'rescheduled' })
    expect(r.status).toBe(422)
    expect(r.json.error.details[0].field).toBe('body.startsAt')
    expect(producer.sent).toEqual([])
  })
})

describe('OpenAPI and metrics', () => {
  const { app } = testApp()
  test('the OpenAPI document lists every route, and the UI is served', async () => {
    const r = await call(app, 'GET', '/openapi/json')
    expect(r.status).toBe(200)
    expect(r.json.openapi).toMatch(/^3\.1/)
    const ops = Object.entries(r.json.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map(k => `${k.toUpperCase()} ${p}`)).sort()
    expect(ops).toEqual([
      'DELETE /v1/reservations/{id}', 'DELETE /v1/trips/{id}', 'DELETE /v1/trips/{id}/shares/{userId}',
      'GET /healthz', 'GET /metrics', 'GET /readyz',
      'GET /v1/me/settings', 'GET /v1/notifications', 'GET /v1/notifications/stream',
      'GET /v1/reservations/{id}', 'GET /v1/trips', 'GET /v1/trips/{id}',
      'PATCH /v1/reservations/{id}', 'PATCH /v1/trips/{id}',
      'POST /v1/agencies/{agencyId}/updates', 'POST /v1/notifications/stream-tickets', 'POST /v1/reservations', 'POST /v1/trips',
      'PUT /v1/me/settings', 'PUT /v1/trips/{id}/shares/{userId}'
    ])
    expect(JSON.stringify(r.json.paths['/v1/reservations'].post)).toContain('startsAt')
    const ui = await call(app, 'GET', '/openapi')
    expect(ui.status).toBe(200)
    expect(ui.headers.get('content-type')).toContain('text/html')
  })
  test('DynamoDB unreachable: /readyz says so, but the load balancer check keeps the process in the pool', async () => {
    const full = await call(app, 'GET', '/readyz')
    expect({ status: full.status, dynamodb: full.json.checks.dynamodb }).toEqual({ status: 503, dynamodb: false })
    const pool = await call(app, 'GET', API_POOL_CHECK)
    expect({ status: pool.status, dynamodb: pool.json.checks.dynamodb, kafka: pool.json.checks.kafka }).toEqual({ status: 200, dynamodb: 'excluded', kafka: 'excluded' })
  })
  test('metrics count by route pattern and status, never by raw path', async () => {
    await call(app, 'GET', `/v1/reservations/${RES}`, { as: 'alice' })
    await call(app, 'GET', '/v1/nothing/at/all')
    await Bun.sleep(20)
    const text = (await call(app, 'GET', '/metrics')).text
    expect(text).toContain('api_http_requests_total{method="GET",route="/v1/reservations/:id",status="503"} 1')
    expect(text).toContain('route="unmatched",status="404"')
    expect(text).toContain('api_http_request_seconds_bucket{method="GET",route="/v1/reservations/:id",status="503",le="0.8"}')
    expect(text).toContain('api_http_in_flight')
    expect(text).not.toContain(RES)
  })
})
