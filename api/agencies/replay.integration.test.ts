import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { uniq } from '../../test/support/stack.ts'
import { agencyRequest, http, send, startRoles, until, type Roles } from '../black-box-support.ts'

/**
 * Issue 13, "a captured agency update can be replayed", black-box: a real API process and a real
 * updater on the test stack. On the old code the captured "cancelled" re-sent after a later
 * "rescheduled" was accepted and cancelled the reservation again.
 */

let roles: Roles
const alice = uniq('alice').replace(/[^A-Za-z0-9_-]/g, '')
let reservationId = ''
const flight = {
  type: 'flight',
  title: 'AF 123 Paris to Montreal',
  startsAt: '2030-02-01T08:00:00Z',
  endsAt: '2030-02-01T16:00:00Z',
  places: [{ name: 'Paris CDG' }, { name: 'Montreal YUL' }],
  agencyId: 'acme'
}
const get = () => http(roles.url, 'GET', `/v1/reservations/${reservationId}`, { as: alice })
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 12, minutes)).toISOString()
const uid = (name: string) => `${name}-${reservationId}`
const producedWith = (updateId: string) => roles.commands.commands.map(c => c.command).filter(c => c.type === 'reservation.agency-update' && c.payload.updateId === updateId)

/** Sends a fresh "updated" whose notes name it and waits until the updater applied it: everything produced before it for this user was folded. */
let markers = 0
async function barrier (minutes: number) {
  const note = `marker ${++markers}`
  const r = await send(roles.url, agencyRequest({ reservationId, updateId: uid(`marker-${markers}`), occurredAt: at(minutes), change: 'updated', details: { notes: note } }))
  expect(r.status).toBe(202)
  return await until(`marker ${markers} applied`, get, a => a.json?.notes === note)
}

beforeAll(async () => {
  roles = await startRoles('agency-replay')
  const created = await http(roles.url, 'POST', '/v1/reservations', { as: alice, body: flight })
  expect(created.status).toBe(202)
  reservationId = created.json.id
  await until('the reservation applied', get, a => a.status === 200)
}, 150_000)
afterAll(async () => { await roles?.stop() }, 20_000)

describe('agency updates cannot be replayed', () => {
  test('a captured "cancelled" re-sent byte for byte after a later "rescheduled": 202 replayed, nothing produced, nothing changes', async () => {
    const cancelled = agencyRequest({ reservationId, updateId: uid('cancel'), occurredAt: at(0), change: 'cancelled' })
    expect((await send(roles.url, cancelled)).status).toBe(202)
    await until('cancelled', get, a => a.json?.status === 'cancelled')

    const rescheduled = agencyRequest({ reservationId, updateId: uid('reschedule'), occurredAt: at(1), change: 'rescheduled', startsAt: '2030-02-02T08:00:00Z', endsAt: '2030-02-02T16:00:00Z' })
    expect((await send(roles.url, rescheduled)).status).toBe(202)
    const after = await until('rescheduled', get, a => a.json?.status === 'active' && a.json?.startsAt === '2030-02-02T08:00:00.000Z')

    const replay = await send(roles.url, cancelled)
    expect(replay.status).toBe(202)
    expect(replay.json).toEqual({ id: reservationId, status: 'accepted' })
    expect(replay.headers.get('idempotent-replayed')).toBe('true')

    const now = await barrier(2)
    expect(now.json).toMatchObject({ status: 'active', startsAt: '2030-02-02T08:00:00.000Z', version: after.json.version + 1 })
    expect(producedWith(uid('cancel'))).toHaveLength(1)
  }, 30_000)

  test('the same capture signed as it was minutes ago is refused: 401 signature_expired, nothing produced', async () => {
    const old = agencyRequest({ reservationId, updateId: uid('old'), occurredAt: at(3), change: 'cancelled' }, { signedAtS: Math.floor(Date.now() / 1000) - 600 })
    const r = await send(roles.url, old)
    expect(r.status).toBe(401)
    expect(r.json.error).toMatchObject({ code: 'unauthorized', details: [{ field: 'headers.x-signature', code: 'signature_expired' }] })
    // A signature moved to another agency's route, or a body-only (legacy) signature, is refused too.
    const moved = agencyRequest({ reservationId, updateId: uid('moved'), occurredAt: at(3), change: 'cancelled' })
    const other = await http(roles.url, 'POST', '/v1/agencies/other/updates', { body: moved.raw, headers: moved.headers })
    expect(other.status).toBe(401)
    expect(other.json.error.details[0].code).toBe('bad_signature')
    const legacy = await http(roles.url, 'POST', moved.path, { body: moved.raw, headers: { 'content-type': 'application/json', 'x-signature': `sha256=${'0'.repeat(64)}` } })
    expect(legacy.json.error.details[0].code).toBe('legacy_signature_refused')
    await barrier(4)
    expect(producedWith(uid('old'))).toHaveLength(0)
    expect(producedWith(uid('moved'))).toHaveLength(0)
  }, 30_000)

  test('an out-of-order update (older occurredAt, new updateId) is accepted but changes nothing', async () => {
    const before = (await get()).json
    const late = agencyRequest({ reservationId, updateId: uid('late'), occurredAt: at(3), change: 'cancelled' })
    expect((await send(roles.url, late)).status).toBe(202)
    await roles.commands.waitFor('the late update', c => c.type === 'reservation.agency-update' && c.payload.updateId === uid('late'))
    const now = await barrier(5)
    // Only the barrier applied: still active, one version more.
    expect(now.json).toMatchObject({ status: 'active', startsAt: before.startsAt, version: before.version + 1 })
  }, 30_000)

  test('the same updateId sent twice (one after the other, then at once): one command', async () => {
    const twice = agencyRequest({ reservationId, updateId: uid('twice'), occurredAt: at(6), change: 'updated', details: { title: 'AF 123 (seat 3A)' } })
    const a = await send(roles.url, twice)
    const b = await send(roles.url, agencyRequest(JSON.parse(twice.raw)))
    expect([a.status, b.status]).toEqual([202, 202])
    expect(b.headers.get('idempotent-replayed')).toBe('true')
    const body = { reservationId, updateId: uid('racing'), occurredAt: at(7), change: 'updated', details: { title: 'AF 123 (seat 4B)' } }
    const racing = await Promise.all([1, 2, 3, 4].map(() => send(roles.url, agencyRequest(body))))
    expect(racing.map(r => r.status)).toEqual([202, 202, 202, 202])
    await barrier(8)
    expect(producedWith(uid('twice'))).toHaveLength(1)
    expect(producedWith(uid('racing'))).toHaveLength(1)
    expect((await get()).json.title).toBe('AF 123 (seat 4B)')
  }, 30_000)

  test('the same updateId with another body: 422 update_id_reused', async () => {
    const r = await send(roles.url, agencyRequest({ reservationId, updateId: uid('twice'), occurredAt: at(6), change: 'cancelled' }))
    expect(r.status).toBe(422)
    expect(r.json.error.details[0]).toMatchObject({ field: 'body.updateId', code: 'update_id_reused' })
  })
})
