import { describe, expect, test } from 'bun:test'
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { LIMIT_CODES, LIMITS } from '../shared/domain/limits.ts'
import { call, flightBody, testApp } from './testing.ts'

/**
 * The API's limit checks (422 before producing), against a small in-memory model of the table:
 * items by pk/sk, and the sparse `live` local index queried as DynamoDB does (rows sorted by
 * `lsi1sk`, `Limit` counts rows read before the filter, a page holds at most PAGE rows, `Count`
 * after the filter). Only the requests the limit paths make are understood; anything else throws,
 * so a changed query shape fails here instead of passing by accident.
 */
const PAGE = 128

class TableModel {
  readonly items = new Map<string, Record<string, unknown>>()
  queries = 0
  put (item: Record<string, unknown>): void { this.items.set(`${item.pk}|${item.sk}`, item) }

  async send (cmd: unknown): Promise<Record<string, unknown>> {
    if (cmd instanceof GetCommand) return { Item: this.items.get(`${cmd.input.Key!.pk}|${cmd.input.Key!.sk}`) }
    if (cmd instanceof PutCommand) return this.putIdempotency(cmd.input)
    if (cmd instanceof UpdateCommand) return this.markDone(cmd.input)
    if (cmd instanceof QueryCommand) return this.query(cmd.input)
    throw new Error(`unexpected request ${(cmd as object).constructor.name}`)
  }

  /** Idempotency records (api/store.ts): a put wins unless a live record is there. */
  private putIdempotency (q: PutCommand['input']): Record<string, unknown> {
    if (q.ConditionExpression !== 'attribute_not_exists(pk) OR expiresAt < :nowS') throw new Error(`unexpected put ${JSON.stringify(q)}`)
    const old = this.items.get(`${q.Item!.pk}|${q.Item!.sk}`)
    if (old && (old.expiresAt as number) >= (q.ExpressionAttributeValues![':nowS'] as number)) throw new ConditionalCheckFailedException({ message: 'condition failed', $metadata: {} })
    this.put(q.Item!)
    return {}
  }

  private markDone (q: UpdateCommand['input']): Record<string, unknown> {
    if (q.UpdateExpression !== 'SET #state = :done') throw new Error(`unexpected update ${JSON.stringify(q)}`)
    const key = `${q.Key!.pk}|${q.Key!.sk}`
    this.items.set(key, { ...this.items.get(key), state: 'done' })
    return {}
  }

  private query (q: QueryCommand['input']): Record<string, unknown> {
    this.queries++
    if (q.IndexName !== 'live' || q.Select !== 'COUNT' || q.ConsistentRead !== true) throw new Error(`unexpected query ${JSON.stringify(q)}`)
    const v = q.ExpressionAttributeValues!
    const n = q.ExpressionAttributeNames!
    if (n['#pk'] !== 'pk' || n['#sk'] !== 'lsi1sk') throw new Error(`unexpected key names ${JSON.stringify(n)}`)
    let inRange: (sk: string) => boolean
    if (q.KeyConditionExpression === '#pk = :pk AND begins_with(#sk, :p)') inRange = sk => sk.startsWith(v[':p'] as string)
    else if (q.KeyConditionExpression === '#pk = :pk AND #sk BETWEEN :from AND :to') inRange = sk => sk >= (v[':from'] as string) && sk <= (v[':to'] as string)
    else throw new Error(`unexpected key condition ${q.KeyConditionExpression}`)
    let keep = (_: Record<string, unknown>) => true
    if (q.FilterExpression === '#status = :active' && n['#status'] === 'status') keep = i => i.status === v[':active']
    else if (q.FilterExpression !== undefined) throw new Error(`unexpected filter ${q.FilterExpression}`)
    const rows = [...this.items.values()]
      .filter(i => i.pk === v[':pk'] && typeof i.lsi1sk === 'string' && inRange(i.lsi1sk))
      .sort((a, b) => (a.lsi1sk as string) < (b.lsi1sk as string) ? -1 : 1)
    const start = q.ExclusiveStartKey ? rows.findIndex(r => r.lsi1sk === q.ExclusiveStartKey!.lsi1sk) + 1 : 0
    const size = Math.min(PAGE, q.Limit ?? PAGE)
    const read = rows.slice(start, start + size)
    const last = read.at(-1)
    const more = start + read.length < rows.length
    return { Count: read.filter(keep).length, LastEvaluatedKey: more && last ? { pk: last.pk, sk: last.sk, lsi1sk: last.lsi1sk } : undefined }
  }
}

const U = 'alice'
const UNASSIGNED = `unassigned-${U}`
const ulid = (n: number) => `01J${String(n).padStart(23, '0')}`
const TRIP = ulid(999_999)

function model (o: { unassigned?: number, inTrip?: number, cancelled?: number, trips?: number, shares?: number } = {}): TableModel {
  const t = new TableModel()
  const trip = (id: string, shares: Record<string, string> = {}) => t.put({ pk: `U#${U}`, sk: `TRIP#${id}`, entity: 'trip', id, ownerId: U, name: 'x', unassigned: id === UNASSIGNED, status: 'active', shares, lsi1sk: `T#${id}` })
  const res = (n: number, tripId: string, status = 'active') => t.put({ pk: `U#${U}`, sk: `RES#${ulid(n)}`, entity: 'reservation', id: ulid(n), tripId, status, lsi1sk: `R#${tripId}#${ulid(n)}` })
  trip(UNASSIGNED)
  trip(TRIP, Object.fromEntries(Array.from({ length: o.shares ?? 0 }, (_, i) => [`grantee${i}`, 'full'])))
  for (let i = 0; i < (o.trips ?? 0); i++) trip(ulid(500_000 + i))
  let n = 0
  for (let i = 0; i < (o.unassigned ?? 0); i++) res(n++, UNASSIGNED)
  for (let i = 0; i < (o.inTrip ?? 0); i++) res(n++, TRIP)
  for (let i = 0; i < (o.cancelled ?? 0); i++) res(n++, TRIP, 'cancelled')
  // Another user's rows never count.
  t.put({ pk: 'U#bob', sk: `RES#${ulid(1)}`, status: 'active', lsi1sk: `R#unassigned-bob#${ulid(1)}` })
  return t
}

function appOver (t: TableModel) {
  return testApp({ db: t as unknown as DynamoDBDocumentClient })
}

describe('reservations per trip', () => {
  test(`a trip with ${LIMITS.reservationsPerTrip - 1} live reservations takes one more; at ${LIMITS.reservationsPerTrip} the create is 422 and nothing is produced`, async () => {
    const below = appOver(model({ unassigned: LIMITS.reservationsPerTrip - 1 }))
    expect((await call(below.app, 'POST', '/v1/reservations', { as: U, body: flightBody })).status).toBe(202)
    expect(below.producer.sent.length).toBe(1)

    const at = appOver(model({ unassigned: LIMITS.reservationsPerTrip }))
    for (const body of [flightBody, { ...flightBody, tripId: UNASSIGNED }]) {
      const r = await call(at.app, 'POST', '/v1/reservations', { as: U, body })
      expect(r.status).toBe(422)
      expect(r.json.error.code).toBe(LIMIT_CODES.reservationsPerTrip)
      expect(r.json.error.message).toBe(`the trip already holds ${LIMITS.reservationsPerTrip} live reservations: the limit reservationsPerTrip is ${LIMITS.reservationsPerTrip}`)
      expect(r.json.error.details).toEqual([{ field: body === flightBody ? 'body' : 'body.tripId', code: LIMIT_CODES.reservationsPerTrip, message: r.json.error.message }])
    }
    // Another trip of the same user is not full.
    expect((await call(at.app, 'POST', '/v1/reservations', { as: U, body: { ...flightBody, tripId: TRIP } })).status).toBe(202)
    expect(at.producer.sent.map(s => s.command.type)).toEqual(['reservation.create'])
  })

  test('moving a reservation into a full trip is 422; moving it out, or changing it in place, is not', async () => {
    const t = model({ unassigned: LIMITS.reservationsPerTrip, inTrip: 1 })
    const { app, producer } = appOver(t)
    const inTrip = ulid(LIMITS.reservationsPerTrip)
    const moved = await call(app, 'PATCH', `/v1/reservations/${inTrip}`, { as: U, body: { tripId: null } })
    expect({ status: moved.status, code: moved.json.error.code, field: moved.json.error.details[0].field }).toEqual({ status: 422, code: LIMIT_CODES.reservationsPerTrip, field: 'body.tripId' })
    expect((await call(app, 'PATCH', `/v1/reservations/${inTrip}`, { as: U, body: { tripId: UNASSIGNED } })).status).toBe(422)
    expect((await call(app, 'PATCH', `/v1/reservations/${ulid(0)}`, { as: U, body: { tripId: TRIP } })).status).toBe(202)
    expect((await call(app, 'PATCH', `/v1/reservations/${ulid(1)}`, { as: U, body: { title: 'renamed', tripId: null } })).status).toBe(202)
    expect(producer.sent.length).toBe(2)
  })

  test('the count pages through the index (more rows than one page) and stops at the limit', async () => {
    const t = model({ unassigned: LIMITS.reservationsPerTrip + 300 })
    const { app } = appOver(t)
    expect((await call(app, 'POST', '/v1/reservations', { as: U, body: { ...flightBody, tripId: TRIP } })).status).toBe(202)
    t.queries = 0
    const r = await call(app, 'POST', '/v1/reservations', { as: U, body: flightBody })
    expect(r.json.error.code).toBe(LIMIT_CODES.reservationsPerTrip)
    // the trip's count reads exactly LIMIT rows in ceil(LIMIT / PAGE) pages; the active count all of them.
    expect(t.queries).toBe(Math.ceil(LIMITS.reservationsPerTrip / PAGE) + Math.ceil((LIMITS.reservationsPerTrip + 300) / PAGE))
  })
})

describe('removing a trip moves its reservations to the Unassigned trip', () => {
  test('refused (422) when the Unassigned trip could not take them all, allowed when it can', async () => {
    const full = appOver(model({ unassigned: LIMITS.reservationsPerTrip - 2, inTrip: 3 }))
    const r = await call(full.app, 'DELETE', `/v1/trips/${TRIP}`, { as: U })
    expect({ status: r.status, code: r.json.error.code, field: r.json.error.details[0].field }).toEqual({ status: 422, code: LIMIT_CODES.reservationsPerTrip, field: 'params.id' })
    expect(r.json.error.message).toContain(`its 3 live reservations into the Unassigned trip, which holds ${LIMITS.reservationsPerTrip - 2}`)
    expect(full.producer.sent).toEqual([])
    const room = appOver(model({ unassigned: LIMITS.reservationsPerTrip - 3, inTrip: 3 }))
    expect((await call(room.app, 'DELETE', `/v1/trips/${TRIP}`, { as: U })).status).toBe(202)
  })
})

describe('active reservations per user', () => {
  test(`${LIMITS.activeReservationsPerUser} active ones across trips: 422; cancelled ones do not count`, async () => {
    const part = 400
    // Spread over trips below their own limit: only the user's total is at its limit.
    const t = model({ unassigned: part, inTrip: part })
    for (let i = 0; i < LIMITS.activeReservationsPerUser - 2 * part; i++) {
      const trip = ulid(700_000 + Math.floor(i / 400))
      t.put({ pk: `U#${U}`, sk: `RES#${ulid(800_000 + i)}`, status: 'active', lsi1sk: `R#${trip}#${ulid(800_000 + i)}` })
    }
    const at = await call(appOver(t).app, 'POST', '/v1/reservations', { as: U, body: { ...flightBody, tripId: TRIP } })
    expect(at.status).toBe(422)
    expect(at.json.error.code).toBe(LIMIT_CODES.activeReservationsPerUser)
    expect(at.json.error.message).toContain(`activeReservationsPerUser is ${LIMITS.activeReservationsPerUser}`)

    const withCancelled = model({ unassigned: part, inTrip: 1, cancelled: LIMITS.activeReservationsPerUser })
    expect((await call(appOver(withCancelled).app, 'POST', '/v1/reservations', { as: U, body: flightBody })).status).toBe(202)
  })
})

describe('trips per user', () => {
  test(`the Unassigned trip is not counted: ${LIMITS.tripsPerUser - 1} trips besides it take one more, ${LIMITS.tripsPerUser} do not`, async () => {
    // model() always has the Unassigned trip and TRIP: `trips` more makes trips + 1 counted.
    const below = appOver(model({ trips: LIMITS.tripsPerUser - 2 }))
    expect((await call(below.app, 'POST', '/v1/trips', { as: U, body: { name: 'one more' } })).status).toBe(202)
    const at = appOver(model({ trips: LIMITS.tripsPerUser - 1 }))
    const r = await call(at.app, 'POST', '/v1/trips', { as: U, body: { name: 'one too many' } })
    expect(r.status).toBe(422)
    expect(r.json.error.code).toBe(LIMIT_CODES.tripsPerUser)
    expect(r.json.error.message).toBe(`you already have ${LIMITS.tripsPerUser} trips: the limit tripsPerUser is ${LIMITS.tripsPerUser}`)
    expect(at.producer.sent).toEqual([])
  })
})

describe('shares per trip', () => {
  test(`a new grantee past ${LIMITS.sharesPerTrip} is 422; an existing one may change role; prototype names are not grantees`, async () => {
    const { app, producer } = appOver(model({ shares: LIMITS.sharesPerTrip }))
    const r = await call(app, 'PUT', `/v1/trips/${TRIP}/shares/newcomer`, { as: U, body: { role: 'full' } })
    expect(r.status).toBe(422)
    expect(r.json.error.code).toBe(LIMIT_CODES.sharesPerTrip)
    expect(r.json.error.details[0].field).toBe('params.userId')
    // `constructor` is on every object's prototype, not among the trip's own grantees.
    expect((await call(app, 'PUT', `/v1/trips/${TRIP}/shares/constructor`, { as: U, body: { role: 'full' } })).json.error.code).toBe(LIMIT_CODES.sharesPerTrip)
    expect((await call(app, 'PUT', `/v1/trips/${TRIP}/shares/grantee7`, { as: U, body: { role: 'dates-and-places' } })).status).toBe(202)
    expect(producer.sent.map(s => s.command.type)).toEqual(['trip.share.put'])

    const below = appOver(model({ shares: LIMITS.sharesPerTrip - 1 }))
    expect((await call(below.app, 'PUT', `/v1/trips/${TRIP}/shares/newcomer`, { as: U, body: { role: 'full' } })).status).toBe(202)
  })
})

describe('a retried create', () => {
  test('with its Idempotency-Key recorded, it is replayed even if its own reservation filled the trip; a new key is refused', async () => {
    const t = model({ unassigned: LIMITS.reservationsPerTrip - 1 })
    const { app, producer } = appOver(t)
    const headers = { 'idempotency-key': 'k1' }
    const first = await call(app, 'POST', '/v1/reservations', { as: U, body: flightBody, headers })
    expect(first.status).toBe(202)
    // The updater applies it: the trip is now full.
    t.put({ pk: `U#${U}`, sk: `RES#${first.json.id}`, status: 'active', lsi1sk: `R#${UNASSIGNED}#${first.json.id}` })
    expect(t.items.get(`U#${U}|IDEM#k1`)?.state).toBe('done')
    const retry = await call(app, 'POST', '/v1/reservations', { as: U, body: flightBody, headers })
    expect({ status: retry.status, id: retry.json.id, replayed: retry.headers.get('idempotent-replayed') }).toEqual({ status: 202, id: first.json.id, replayed: 'true' })
    const other = await call(app, 'POST', '/v1/reservations', { as: U, body: flightBody, headers: { 'idempotency-key': 'k2' } })
    expect(other.json.error.code).toBe(LIMIT_CODES.reservationsPerTrip)
    expect(producer.sent.length).toBe(1)
  })
})

test('OpenAPI: each route that checks a limit lists its 422 codes', async () => {
  const { app } = testApp()
  const doc = (await call(app, 'GET', '/openapi/json')).json
  const described = (path: string, method: string) => doc.paths[path][method].responses['422'].description as string
  expect(described('/v1/reservations', 'post')).toContain(`\`${LIMIT_CODES.reservationsPerTrip}\` (reservationsPerTrip: ${LIMITS.reservationsPerTrip})`)
  expect(described('/v1/reservations', 'post')).toContain(LIMIT_CODES.activeReservationsPerUser)
  expect(described('/v1/reservations/{id}', 'patch')).toContain(LIMIT_CODES.reservationsPerTrip)
  expect(described('/v1/trips', 'post')).toContain(LIMIT_CODES.tripsPerUser)
  expect(described('/v1/trips/{id}', 'delete')).toContain(LIMIT_CODES.reservationsPerTrip)
  expect(described('/v1/trips/{id}/shares/{userId}', 'put')).toContain(LIMIT_CODES.sharesPerTrip)
})
