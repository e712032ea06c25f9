import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { USER_ID_PATTERN } from '../shared/schemas/ids.ts'
import { uniq } from '../test/support/stack.ts'
import { agencyRequest, http, send, startRoles, until, type Answer, type Roles } from './black-box-support.ts'

/**
 * Issue 13, "a user whose id is the name of a JavaScript built-in reads other users' reservations",
 * black-box: a real API process and a real updater on the test stack. Every name of
 * Object.prototype that is a valid id is used as a user id, a trip id, an agency id and a share
 * key on every route. On the old code a token for `constructor` read alice's reservation in full
 * (roleOf found Object.prototype.constructor in the trip's plain `shares` object).
 */

const NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype'])].filter(n => new RegExp(USER_ID_PATTERN).test(n))
const PROTO_AGENCY_SECRET = 'constructor-agency-secret-0123456789'

let roles: Roles
const alice = uniq('alice').replace(/[^A-Za-z0-9_-]/g, '')
let trip = ''
let reservation = ''
let agencyReservation = ''
const flight = {
  type: 'flight',
  title: 'AF 123 Paris to Montreal',
  startsAt: '2030-02-01T08:00:00Z',
  endsAt: '2030-02-01T16:00:00Z',
  places: [{ name: 'Paris CDG' }, { name: 'Montreal YUL' }],
  price: { amount: 812.5, currency: 'EUR' },
  notes: 'window seat',
  trackingRef: 'ABC123'
}
const as = (user: string, method: string, path: string, body?: unknown) => http(roles.url, method, path, { as: user, body })
const statusOf = async (p: Promise<Answer>) => (await p).status
const role = (i: number) => (i % 2 ? 'full' : 'dates-and-places')

beforeAll(async () => {
  roles = await startRoles('proto-ids', {
    AGENCY_SECRETS: JSON.stringify({ acme: 'acme-agency-secret-0123456789', constructor: PROTO_AGENCY_SECRET })
  })
  const t = await as(alice, 'POST', '/v1/trips', { name: 'Canada' })
  expect(t.status).toBe(202)
  trip = t.json.id
  await until('the trip applied', () => as(alice, 'GET', `/v1/trips/${trip}`), a => a.status === 200)
  const r = await as(alice, 'POST', '/v1/reservations', { ...flight, tripId: trip, agencyId: 'acme' })
  reservation = r.json.id
  const r2 = await as(alice, 'POST', '/v1/reservations', { ...flight, title: 'Hotel', type: 'hotel', agencyId: 'constructor' })
  agencyReservation = r2.json.id
  await until('the reservations applied', () => as(alice, 'GET', `/v1/reservations/${agencyReservation}`), a => a.status === 200)
  await until('the reservations applied', () => as(alice, 'GET', `/v1/reservations/${reservation}`), a => a.status === 200)
}, 150_000)
afterAll(async () => { await roles?.stop() }, 20_000)

test('the names cover the built-ins that matter', () => {
  for (const n of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__']) expect(NAMES).toContain(n)
  expect(NAMES).not.toContain('__proto__') // refused as an id: see the last test
})

describe('built-in names as user ids', () => {
  test('the issue\'s attack: a token for `constructor` gets 404 for another user\'s reservation', async () => {
    const r = await as('constructor', 'GET', `/v1/reservations/${reservation}`)
    expect(r.status).toBe(404)
    expect(r.json.error.code).toBe('not_found')
    expect(JSON.stringify(r.json)).not.toContain('ABC123')
  })

  test('every route, as each name, on alice\'s data: 404 (or their own empty data), never alice\'s', async () => {
    for (const n of NAMES) {
      const got = {
        getReservation: await statusOf(as(n, 'GET', `/v1/reservations/${reservation}`)),
        patchReservation: await statusOf(as(n, 'PATCH', `/v1/reservations/${reservation}`, { title: 'mine now' })),
        deleteReservation: await statusOf(as(n, 'DELETE', `/v1/reservations/${reservation}`)),
        getTrip: await statusOf(as(n, 'GET', `/v1/trips/${trip}`)),
        getUnassigned: await statusOf(as(n, 'GET', `/v1/trips/unassigned-${alice}`)),
        patchTrip: await statusOf(as(n, 'PATCH', `/v1/trips/${trip}`, { name: 'mine now' })),
        deleteTrip: await statusOf(as(n, 'DELETE', `/v1/trips/${trip}`)),
        shareToSelf: await statusOf(as(n, 'PUT', `/v1/trips/${trip}/shares/${n}`, { role: 'full' })),
        unshareAlice: await statusOf(as(n, 'DELETE', `/v1/trips/${trip}/shares/${alice}`))
      }
      expect({ n, ...got }).toEqual({ n, getReservation: 404, patchReservation: 404, deleteReservation: 404, getTrip: 404, getUnassigned: 404, patchTrip: 404, deleteTrip: 404, shareToSelf: 404, unshareAlice: 404 })
      const list = await as(n, 'GET', '/v1/trips')
      expect(list.status).toBe(200)
      expect(JSON.stringify(list.json)).not.toContain(trip)
      const notes = await as(n, 'GET', '/v1/notifications')
      expect(notes.status).toBe(200)
      expect(notes.json.items).toEqual([])
      expect(await statusOf(as(n, 'GET', '/v1/me/settings'))).toBeLessThan(500)
      expect(await statusOf(as(n, 'POST', '/v1/notifications/stream-tickets'))).toBe(201)
    }
    // Nothing of that touched alice's data.
    expect((await as(alice, 'GET', `/v1/reservations/${reservation}`)).json).toMatchObject({ title: flight.title, status: 'active', version: 1 })
  }, 60_000)

  test('as path values: trip ids, share keys and agency ids named after built-ins find nothing', async () => {
    for (const n of NAMES) {
      expect(await statusOf(as(alice, 'GET', `/v1/trips/unassigned-${n}`))).toBe(404)
      expect(await statusOf(as(alice, 'DELETE', `/v1/trips/${trip}/shares/${n}`))).toBe(404) // old code: 202, a command the fold refused
      expect(await statusOf(as(alice, 'GET', `/v1/reservations/${n}`))).toBe(422)
      if (n === 'constructor') continue // a configured agency below
      const signedAsAcme = agencyRequest({ reservationId: reservation, updateId: `u-${n}`, occurredAt: new Date().toISOString(), change: 'cancelled' }, { agencyId: n, secret: 'acme-agency-secret-0123456789' })
      expect({ n, status: (await send(roles.url, signedAsAcme)).status }).toEqual({ n, status: 401 })
    }
    expect(roles.commands.commands.map(c => c.command).filter(c => c.type === 'trip.share.remove')).toEqual([])
  }, 60_000)

  test('an agency named `constructor` (configured) updates its own reservation and no other', async () => {
    const own = agencyRequest({ reservationId: agencyReservation, updateId: 'c-1', occurredAt: new Date().toISOString(), change: 'cancelled' }, { agencyId: 'constructor', secret: PROTO_AGENCY_SECRET })
    expect((await send(roles.url, own)).status).toBe(202)
    await until('the agency update applied', () => as(alice, 'GET', `/v1/reservations/${agencyReservation}`), a => a.json?.status === 'cancelled')
    const foreign = agencyRequest({ reservationId: reservation, updateId: 'c-2', occurredAt: new Date().toISOString(), change: 'cancelled' }, { agencyId: 'constructor', secret: PROTO_AGENCY_SECRET })
    expect((await send(roles.url, foreign)).status).toBe(404)
  }, 30_000)

  test('users with those names own data of their own; alice cannot see it', async () => {
    const ids = new Map<string, string>()
    for (const n of NAMES) {
      const r = await as(n, 'POST', '/v1/reservations', { ...flight, title: `of ${n}` })
      expect(r.status).toBe(202)
      ids.set(n, r.json.id)
      expect(await statusOf(as(n, 'PUT', '/v1/me/settings', { language: 'fr' }))).toBe(202)
    }
    for (const [n, id] of ids) {
      const mine = await until(`${n}'s reservation applied`, () => as(n, 'GET', `/v1/reservations/${id}`), a => a.status === 200)
      expect(mine.json.title).toBe(`of ${n}`)
      expect(await statusOf(as(alice, 'GET', `/v1/reservations/${id}`))).toBe(404)
      const trips = await as(n, 'GET', '/v1/trips')
      expect(trips.json.items.map((t: { id: string }) => t.id)).toEqual([`unassigned-${n}`])
      expect((await until(`${n}'s settings`, () => as(n, 'GET', '/v1/me/settings'), a => a.status === 200)).json.language).toBe('fr')
    }
  }, 60_000)

  test('as share keys: each shared name gets exactly its role, through the table and back; unshared again, 404', async () => {
    for (const [i, n] of NAMES.entries()) expect(await statusOf(as(alice, 'PUT', `/v1/trips/${trip}/shares/${n}`, { role: role(i) }))).toBe(202)
    const owner = await until('every share applied', () => as(alice, 'GET', `/v1/trips/${trip}`), a => Object.keys(a.json?.trip?.shares ?? {}).length === NAMES.length)
      .catch(async (err: Error) => { throw new Error(`${err.message}: ${JSON.stringify((await as(alice, 'GET', `/v1/trips/${trip}`)).json)}\n${roles.logs().slice(-3000)}`) })
    expect(owner.json.trip.shares).toEqual(Object.fromEntries(NAMES.map((n, i) => [n, role(i)])))
    for (const [i, n] of NAMES.entries()) {
      const r = await as(n, 'GET', `/v1/reservations/${reservation}`)
      expect({ n, status: r.status }).toEqual({ n, status: 200 })
      if (role(i) === 'full') expect(r.json).toMatchObject({ price: flight.price, trackingRef: 'ABC123' })
      else expect(Object.keys(r.json).sort()).toEqual(['endsAt', 'id', 'places', 'startsAt', 'status', 'title', 'tripId', 'type'])
      const t = await as(n, 'GET', `/v1/trips/${trip}`)
      expect({ n, status: t.status, role: t.json.role }).toEqual({ n, status: 200, role: role(i) })
      expect(t.json.trip.shares).toBeUndefined()
      const listed = await until(`${n} lists the shared trip`, () => as(n, 'GET', '/v1/trips'), a => a.json.items.some((x: { id: string }) => x.id === trip))
      expect(listed.json.items.find((x: { id: string }) => x.id === trip)).toMatchObject({ role: role(i), ownerId: alice })
      // A grantee still cannot write.
      expect(await statusOf(as(n, 'PATCH', `/v1/reservations/${reservation}`, { title: 'x' }))).toBe(403)
    }
    expect(await statusOf(as('mallory', 'GET', `/v1/reservations/${reservation}`))).toBe(404)
    for (const n of NAMES) expect(await statusOf(as(alice, 'DELETE', `/v1/trips/${trip}/shares/${n}`))).toBe(202)
    await until('every share removed', () => as(alice, 'GET', `/v1/trips/${trip}`), a => a.json?.trip?.shares !== undefined && Object.keys(a.json.trip.shares).length === 0)
    for (const n of NAMES) expect({ n, status: await statusOf(as(n, 'GET', `/v1/reservations/${reservation}`)) }).toEqual({ n, status: 404 })
  }, 90_000)

  test('__proto__ is not a valid user id: its token is refused, it cannot be shared with', async () => {
    expect(await statusOf(as('__proto__', 'GET', `/v1/reservations/${reservation}`))).toBe(401)
    expect(await statusOf(as('__proto__', 'GET', '/v1/trips'))).toBe(401)
    const share = await as(alice, 'PUT', `/v1/trips/${trip}/shares/__proto__`, { role: 'full' })
    expect(share.status).toBe(422)
  })
})
