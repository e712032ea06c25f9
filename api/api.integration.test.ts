import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { loadEnv } from '../shared/config/env.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { newId } from '../shared/domain/ids.ts'
import { notificationSk, userPk, unassignedTripId } from '../shared/domain/keys.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { ProduceTimeoutError } from '../shared/kafka/errors.ts'
import { Registry } from '../shared/metrics/registry.ts'
import { type ReservationCreateBody } from '../shared/schemas/reservation.ts'
import { stackEnv, uniq } from '../test/support/stack.ts'
import { createApp } from './app.ts'
import { ApiSettings } from './config.ts'
import { CommandLog, Seeder } from './integration-support.ts'
import { NotificationHub } from './notifications/hub.ts'
import { agencyCall, call, FakeSink, flightBody, quietLog, testSettings, token } from './testing.ts'

const env = stackEnv()
const s = loadEnv(ApiSettings, { ...env, JWT_SECRET: testSettings.JWT_SECRET, AGENCY_SECRETS: JSON.stringify(testSettings.AGENCY_SECRETS) })
const db = createDynamoClient(s, { requestTimeoutMs: 2000 })
const producer = new BatchingProducer({ brokers: s.KAFKA_BROKERS.split(','), clientId: 'api-test', deadlineMs: 5000, lingerMs: 1 })
const hub = new NotificationHub(5)
const app = createApp({ producer, db, table: s.TABLE_NAME, log: quietLog, registry: new Registry(), draining: () => false, hub, settings: { ...testSettings, TOPIC_COMMANDS: s.TOPIC_COMMANDS, PRODUCE_DEADLINE_MS: 5000 } })
const seed = new Seeder(db, s.TABLE_NAME)
const log = new CommandLog()
/** The DynamoDB operations this process sent (x-amz-target), to count what a read costs. */
const operations: string[] = []
db.middlewareStack.add(next => async args => {
  const target = (args.request as { headers?: Record<string, string> }).headers?.['x-amz-target']
  operations.push(target?.split('.').pop() ?? '?')
  return next(args)
}, { step: 'build', name: 'countOperations' })

const u = (name: string) => uniq(name).replace(/[^A-Za-z0-9_-]/g, '')
const alice = u('alice'); const bob = u('bob'); const carol = u('carol'); const mallory = u('mallory'); const dave = u('dave')
const trip = newId(); const bobTrip = newId()
const res1 = newId(); const res2 = newId(); const plain = newId(); const gone = newId()
const body = (over: Partial<ReservationCreateBody> = {}): ReservationCreateBody => ({ ...(flightBody as ReservationCreateBody), ...over })

beforeAll(async () => {
  await producer.connect([s.TOPIC_COMMANDS])
  await log.start(s.TOPIC_COMMANDS)
  await seed.apply(alice,
    seed.cmd('trip.create', alice, { tripId: trip, name: 'Canada', notes: 'trip notes' }),
    seed.cmd('reservation.create', alice, { reservationId: res2, ...body({ tripId: trip, title: 'Hotel Montreal', type: 'hotel', startsAt: '2030-02-01T18:00:00Z', endsAt: '2030-02-05T10:00:00Z' }) }),
    seed.cmd('reservation.create', alice, { reservationId: res1, ...body({ tripId: trip }) }),
    seed.cmd('reservation.create', alice, { reservationId: plain, ...body({ agencyId: undefined }) }),
    seed.cmd('reservation.create', alice, { reservationId: gone, ...body() }))
  await seed.apply(alice,
    seed.cmd('reservation.remove', alice, { reservationId: gone }),
    seed.cmd('trip.share.put', alice, { tripId: trip, granteeId: bob, role: 'full' }),
    seed.cmd('trip.share.put', alice, { tripId: trip, granteeId: carol, role: 'dates-and-places' }))
  await seed.apply(bob, seed.cmd('trip.create', bob, { tripId: bobTrip, name: 'Bob only' }))
}, 60_000)
afterAll(async () => { await log.stop(); await producer.close(); db.destroy() })

/**
 * A later command of the same user through the API (same key, so the same partition, after the
 * earlier ones): once the log has it, the log has read every command the user had before it.
 */
async function caughtUp (userId: string): Promise<void> {
  expect((await call(app, 'PUT', '/v1/me/settings', { as: userId, body: { language: 'en' } })).status).toBe(202)
  await log.waitFor(`the sentinel of ${userId}`, c => c.userId === userId && c.type === 'settings.put')
}
const typesOf = (userId: string) => log.of(userId).map(c => c.command.type)

describe('reads and who may see what', () => {
  test('GET /v1/reservations/:id: owner and full grantee see everything, dates-and-places the itinerary, a stranger 404', async () => {
    const own = await call(app, 'GET', `/v1/reservations/${res1}`, { as: alice })
    expect(own.status).toBe(200)
    expect(own.json).toMatchObject({ id: res1, tripId: trip, price: { amount: 812.5, currency: 'EUR' }, trackingRef: 'ABC123', notes: 'window seat', status: 'active' })
    const full = await call(app, 'GET', `/v1/reservations/${res1}`, { as: bob })
    expect(full.json).toEqual(own.json)
    const dp = await call(app, 'GET', `/v1/reservations/${res1}`, { as: carol })
    expect(dp.status).toBe(200)
    expect(Object.keys(dp.json).sort()).toEqual(['endsAt', 'id', 'places', 'startsAt', 'status', 'title', 'tripId', 'type'])
    expect((await call(app, 'GET', `/v1/reservations/${res1}`, { as: mallory })).status).toBe(404)
    // Not in a shared trip: the grantees of another trip do not see it.
    expect((await call(app, 'GET', `/v1/reservations/${plain}`, { as: bob })).status).toBe(404)
  })
  test('a removed reservation (tombstone) and an unknown id are 404, even for the owner', async () => {
    expect((await call(app, 'GET', `/v1/reservations/${gone}`, { as: alice })).status).toBe(404)
    expect((await call(app, 'GET', `/v1/reservations/${newId()}`, { as: alice })).status).toBe(404)
  })
  test('GET /v1/trips/:id: one Query, reservations by start time, projected per role; stranger 404', async () => {
    operations.length = 0
    const own = await call(app, 'GET', `/v1/trips/${trip}`, { as: alice })
    expect(operations).toEqual(['Query'])
    expect(own.status).toBe(200)
    expect(own.json.role).toBe('owner')
    expect(own.json.trip).toMatchObject({ id: trip, name: 'Canada', notes: 'trip notes', shares: { [bob]: 'full', [carol]: 'dates-and-places' } })
    expect(own.json.reservations.map((r: { id: string }) => r.id)).toEqual([res1, res2])
    operations.length = 0
    const b = await call(app, 'GET', `/v1/trips/${trip}`, { as: bob })
    expect(operations).toEqual(['Query'])
    expect(b.json.role).toBe('full')
    expect(b.json.trip.shares).toBeUndefined()
    expect(b.json.reservations[0].price).toBeDefined()
    operations.length = 0
    const c = await call(app, 'GET', `/v1/trips/${trip}`, { as: carol })
    expect(operations).toEqual(['Query'])
    expect(c.json.trip.notes).toBeUndefined()
    expect(c.json.reservations.every((r: Record<string, unknown>) => r.price === undefined && r.notes === undefined && r.trackingRef === undefined)).toBe(true)
    expect((await call(app, 'GET', `/v1/trips/${trip}`, { as: mallory })).status).toBe(404)
    expect((await call(app, 'GET', `/v1/trips/${bobTrip}`, { as: alice })).status).toBe(404)
  })
  test('GET /v1/trips: owned then shared, walked page by page with the opaque cursor', async () => {
    const ids: string[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const r: { status: number, json: { items: Array<{ id: string, role: string }>, cursor: string | null } } =
        await call(app, 'GET', `/v1/trips?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { as: alice })
      expect(r.status).toBe(200)
      ids.push(...r.json.items.map(t => t.id))
      cursor = r.json.cursor
      if (!cursor) break
    }
    expect(ids.sort()).toEqual([trip, unassignedTripId(alice)].sort())
    const b = await call(app, 'GET', '/v1/trips', { as: bob })
    expect(b.json.items).toEqual([
      { id: bobTrip, name: 'Bob only', role: 'owner', ownerId: bob, unassigned: false, status: 'active' },
      { id: trip, name: 'Canada', role: 'full', ownerId: alice }
    ])
    expect(b.json.cursor).toBeNull()
    expect((await call(app, 'GET', '/v1/trips', { as: mallory })).json).toEqual({ items: [], cursor: null })
  })
})

describe('writes', () => {
  test('grantees cannot write (403); a stranger gets 404 on every write; nothing is produced for them', async () => {
    const writes: Array<[string, string, unknown?]> = [
      ['PATCH', `/v1/reservations/${res1}`, { title: 'x' }],
      ['DELETE', `/v1/reservations/${res1}`],
      ['PATCH', `/v1/trips/${trip}`, { name: 'x' }],
      ['DELETE', `/v1/trips/${trip}`],
      ['PUT', `/v1/trips/${trip}/shares/${dave}`, { role: 'full' }],
      ['DELETE', `/v1/trips/${trip}/shares/${bob}`]
    ]
    for (const [method, path, b] of writes) {
      expect({ path, method, status: (await call(app, method, path, { as: bob, body: b })).status }).toEqual({ path, method, status: 403 })
      expect({ path, method, status: (await call(app, method, path, { as: carol, body: b })).status }).toEqual({ path, method, status: 403 })
      expect({ path, method, status: (await call(app, method, path, { as: mallory, body: b })).status }).toEqual({ path, method, status: 404 })
    }
    expect((await call(app, 'POST', '/v1/reservations', { as: mallory, body: body({ tripId: trip }) })).status).toBe(422)
    expect((await call(app, 'POST', '/v1/reservations', { as: alice, body: body({ tripId: bobTrip }) })).status).toBe(422)
    expect((await call(app, 'POST', '/v1/reservations', { as: alice, body: body({ tripId: unassignedTripId(bob) }) })).status).toBe(422)
    for (const user of [bob, carol, mallory]) await caughtUp(user)
    expect([typesOf(bob), typesOf(carol), typesOf(mallory)]).toEqual([['settings.put'], ['settings.put'], ['settings.put']])
  })
  test('owner writes: 202 once Kafka has the command, keyed by the owner', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['PATCH', `/v1/reservations/${res1}`, { title: 'AF 124', notes: null }, 'reservation.update'],
      ['DELETE', `/v1/reservations/${res2}`, undefined, 'reservation.remove'],
      ['PATCH', `/v1/trips/${trip}`, { name: 'Canada 2030' }, 'trip.update'],
      ['PUT', `/v1/trips/${trip}/shares/${dave}`, { role: 'dates-and-places' }, 'trip.share.put'],
      ['DELETE', `/v1/trips/${trip}/shares/${bob}`, undefined, 'trip.share.remove'],
      ['DELETE', `/v1/trips/${trip}`, undefined, 'trip.remove'],
      ['POST', '/v1/reservations', body({ tripId: trip }), 'reservation.create'],
      ['PUT', '/v1/me/settings', { language: 'de' }, 'settings.put']
    ]
    for (const [method, path, b, type] of cases) {
      const r = await call(app, method, path, { as: alice, body: b })
      expect({ path, status: r.status }).toEqual({ path, status: 202 })
      const got = await log.waitFor(type, c => c.userId === alice && c.type === type)
      expect(got.key).toBe(alice)
    }
    const upd = await log.waitFor('update', c => c.userId === alice && c.type === 'reservation.update')
    expect(upd.command.payload).toEqual({ reservationId: res1, patch: { title: 'AF 124', notes: null } })
  })
  test('PATCH rules: times checked against the stored ones; the Unassigned trip cannot change; unknown share 404', async () => {
    const r = await call(app, 'PATCH', `/v1/reservations/${res1}`, { as: alice, body: { endsAt: '2030-01-01T00:00:00Z' } })
    expect(r.status).toBe(422)
    expect(r.json.error.details[0].field).toBe('body.endsAt')
    const s2 = await call(app, 'PATCH', `/v1/reservations/${res1}`, { as: alice, body: { startsAt: '2031-01-01T00:00:00Z' } })
    expect(s2.json.error.details[0].field).toBe('body.startsAt')
    expect((await call(app, 'PATCH', `/v1/trips/${unassignedTripId(alice)}`, { as: alice, body: { name: 'x' } })).status).toBe(409)
    expect((await call(app, 'DELETE', `/v1/trips/${trip}/shares/${mallory}`, { as: alice })).status).toBe(404)
    expect((await call(app, 'PUT', `/v1/trips/${trip}/shares/${alice}`, { as: alice, body: { role: 'full' } })).status).toBe(422)
  })
})

describe('agencies', () => {
  let updates = 0
  const stamp = () => ({ updateId: `it-${Date.now()}-${++updates}`, occurredAt: new Date().toISOString() })
  test('a signed update reaches the owner partition: 202, keyed by the owner, actor agency:<id>', async () => {
    const r = await agencyCall(app, 'demo', { reservationId: res1, ...stamp(), change: 'rescheduled', startsAt: '2030-02-01T09:00:00Z' })
    expect(r.status).toBe(202)
    expect(r.json).toEqual({ id: res1, status: 'accepted' })
    const got = await log.waitFor('agency update', c => c.type === 'reservation.agency-update' && c.userId === alice)
    expect(got.key).toBe(alice)
    expect(got.command).toMatchObject({ actorId: 'agency:demo', payload: { agencyId: 'demo', reservationId: res1, change: 'rescheduled' } })
  })
  test('unknown, removed, or not booked through this agency: 404; bad times against the stored ones: 422', async () => {
    expect((await agencyCall(app, 'demo', { reservationId: newId(), ...stamp(), change: 'cancelled' })).status).toBe(404)
    expect((await agencyCall(app, 'demo', { reservationId: gone, ...stamp(), change: 'cancelled' })).status).toBe(404)
    expect((await agencyCall(app, 'demo', { reservationId: plain, ...stamp(), change: 'cancelled' })).status).toBe(404)
    const r = await agencyCall(app, 'demo', { reservationId: res1, ...stamp(), change: 'rescheduled', endsAt: '2029-01-01T00:00:00Z' })
    expect(r.status).toBe(422)
  })
})

describe('idempotent create', () => {
  test('a retried create returns the same id and produces nothing new', async () => {
    const user = u('idem')
    const a = await call(app, 'POST', '/v1/reservations', { as: user, body: body(), headers: { 'idempotency-key': 'k-1' } })
    const b = await call(app, 'POST', '/v1/reservations', { as: user, body: body(), headers: { 'idempotency-key': 'k-1' } })
    expect(a.status).toBe(202)
    expect(b.status).toBe(202)
    expect(b.json.id).toBe(a.json.id)
    expect(b.headers.get('idempotent-replayed')).toBe('true')
    expect(b.headers.get('location')).toBe(`/v1/reservations/${a.json.id}`)
    await caughtUp(user)
    expect(typesOf(user)).toEqual(['reservation.create', 'settings.put'])
    const other = await call(app, 'POST', '/v1/reservations', { as: user, body: body({ title: 'other' }), headers: { 'idempotency-key': 'k-1' } })
    expect(other.status).toBe(422)
    expect(other.json.error.code).toBe('idempotency_key_reused')
    const trip = await call(app, 'POST', '/v1/trips', { as: user, body: { name: 'x' }, headers: { 'idempotency-key': 'k-1' } })
    expect(trip.status).toBe(422)
    // The same key of another user is another key.
    const stranger = await call(app, 'POST', '/v1/reservations', { as: u('other'), body: body(), headers: { 'idempotency-key': 'k-1' } })
    expect(stranger.json.id).not.toBe(a.json.id)
  })
  test('two identical requests at once: one id, one command', async () => {
    const user = u('race')
    const rs = await Promise.all(Array.from({ length: 5 }, () => call(app, 'POST', '/v1/trips', { as: user, body: { name: 'Race' }, headers: { 'idempotency-key': 'same' } })))
    expect(rs.map(r => r.status)).toEqual([202, 202, 202, 202, 202])
    expect(new Set(rs.map(r => r.json.id)).size).toBe(1)
    await caughtUp(user)
    expect(typesOf(user)).toEqual(['trip.create', 'settings.put'])
  })
  test('the produce failed after the record was written: the retry re-sends the SAME command (same ids)', async () => {
    const sink = new FakeSink()
    const flaky = createApp({ producer: sink, db, table: s.TABLE_NAME, log: quietLog, registry: new Registry(), draining: () => false, settings: { ...testSettings, TOPIC_COMMANDS: s.TOPIC_COMMANDS } })
    const user = u('flaky')
    sink.fail = new ProduceTimeoutError(2000)
    const first = await call(flaky, 'POST', '/v1/reservations', { as: user, body: body(), headers: { 'idempotency-key': 'k' } })
    expect(first.status).toBe(503)
    expect(first.headers.get('retry-after')).toBe('1')
    sink.fail = undefined
    const retry = await call(flaky, 'POST', '/v1/reservations', { as: user, body: body(), headers: { 'idempotency-key': 'k' } })
    expect(retry.status).toBe(202)
    const again = await call(flaky, 'POST', '/v1/reservations', { as: user, body: body(), headers: { 'idempotency-key': 'k' } })
    expect(again.json.id).toBe(retry.json.id)
    expect(sink.sent.length).toBe(1)
    expect(sink.sent[0]!.command.type).toBe('reservation.create')
    expect((sink.sent[0]!.command.payload as { reservationId: string }).reservationId).toBe(retry.json.id)
  })
})

describe('notifications and settings', () => {
  const user = u('notif')
  const ids = [newId(), newId(), newId(), newId()]
  const item = (id: string, over: Record<string, unknown> = {}) => ({
    pk: userPk(user), sk: notificationSk(id), entity: 'notification', id, userId: user, reservationId: res1, kind: 'rescheduled',
    message: 'AF 123 was rescheduled', createdAt: Date.now(),
    data: { tripId: trip, seq: 1, status: 'active', title: 'AF 123', startsAt: '2030-02-01T09:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' }, ...over
  })
  beforeAll(async () => {
    await seed.put(item(ids[0]!))
    await seed.put(item(ids[1]!, { expiresAt: 1000 })) // expired: never shown
    await seed.put(item(ids[2]!))
    await seed.put(item(ids[3]!))
  })
  test('GET /v1/notifications: newest first, expired skipped, cursor pages; a stranger sees none', async () => {
    const p1 = await call(app, 'GET', '/v1/notifications?limit=2', { as: user })
    expect(p1.status).toBe(200)
    expect(p1.json.items.map((n: { id: string }) => n.id)).toEqual([ids[3], ids[2]])
    expect(p1.json.items[0]).toMatchObject({ reservationId: res1, kind: 'rescheduled', message: 'AF 123 was rescheduled' })
    const p2 = await call(app, 'GET', `/v1/notifications?limit=2&cursor=${p1.json.cursor}`, { as: user })
    expect(p2.json.items.map((n: { id: string }) => n.id)).toEqual([ids[0]])
    expect((await call(app, 'GET', '/v1/notifications', { as: mallory })).json).toEqual({ items: [], cursor: null })
  })
  test('GET /v1/notifications/stream: replays after Last-Event-ID, then live from the hub, with heartbeats', async () => {
    const ctl = new AbortController()
    const res = await app.handle(new Request('http://localhost/v1/notifications/stream', {
      headers: { authorization: `Bearer ${token(user)}`, 'last-event-id': ids[0]! }, signal: ctl.signal
    }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    const readUntil = async (pred: () => boolean, ms = 5000) => {
      const deadline = Date.now() + ms
      while (!pred() && Date.now() < deadline) {
        const { value, done } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
    }
    await readUntil(() => text.includes(ids[3]!))
    expect(text).toContain(`id: ${ids[2]}\nevent: notification\ndata: `)
    expect(text).not.toContain(`id: ${ids[0]}`)
    expect(text).not.toContain(ids[1]!)
    const live = { ...item(newId()) } as Record<string, unknown>
    delete live.pk; delete live.sk; delete live.entity
    expect(hub.publish(user, live as never)).toBe(1)
    await readUntil(() => text.includes(live.id as string))
    expect(text).toContain(`id: ${live.id}`)
    await readUntil(() => text.includes(': heartbeat'), 3000)
    expect(text).toContain(': heartbeat')
    await reader.cancel()
    ctl.abort()
    await Bun.sleep(20)
    expect(hub.publish(user, live as never)).toBe(0)
  })
  test('GET /v1/me/settings: never returns the webhook secret', async () => {
    const owner = u('settings')
    await seed.apply(owner, seed.cmd('settings.put', owner, { webhook: { url: 'https://example.com/hook', secret: 'a-very-secret-value' }, language: 'fr' }))
    const r = await call(app, 'GET', '/v1/me/settings', { as: owner })
    expect(r.json).toEqual({ webhook: { url: 'https://example.com/hook' }, language: 'fr' })
    expect(r.text).not.toContain('a-very-secret-value')
  })
})

describe('over the network', () => {
  test('the app served by Bun answers like in-process, and readiness sees Kafka and DynamoDB', async () => {
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const base = `http://127.0.0.1:${server.server!.port}`
      const ready = await fetch(`${base}/readyz`)
      expect(ready.status).toBe(200)
      const r = await fetch(`${base}/v1/reservations/${res1}`, { headers: { authorization: `Bearer ${token(alice)}` } })
      expect(r.status).toBe(200)
      expect(((await r.json()) as { id: string }).id).toBe(res1)
    } finally {
      await app.stop()
    }
  })
})
