import { describe, expect, test } from 'bun:test'
import { AGENCY_SECRET, agencyCall, testApp } from '../testing.ts'
import { signBodyLegacy, signRequest } from './signature.ts'

/** The route's signature step, in-process (no DynamoDB: a signed request that passes goes on to validation). */
const RES = '01HZZZZZZZZZZZZZZZZZZZZZZZ'
const valid = { reservationId: RES, updateId: 'u-1', occurredAt: '2026-01-01T00:00:00Z', change: 'cancelled' }
/** Fails the schema: a request that gets 422 passed the signature. */
const invalid = { ...valid, extra: 1 }
const reason = (r: { json: any }) => r.json?.error?.details?.[0]?.code

describe('POST /v1/agencies/:agencyId/updates: the signature', () => {
  const { app, producer } = testApp()
  test('v1 signed now passes the signature step', async () => {
    expect((await agencyCall(app, 'demo', invalid)).status).toBe(422)
  })
  test('outside the window, either way: 401 signature_expired', async () => {
    const now = Math.floor(Date.now() / 1000)
    for (const at of [now - 301, now + 301]) {
      const r = await agencyCall(app, 'demo', invalid, { at })
      expect(r.status).toBe(401)
      expect(r.json.error.code).toBe('unauthorized')
      expect(reason(r)).toBe('signature_expired')
    }
    expect((await agencyCall(app, 'demo', invalid, { at: now - 290 })).status).toBe(422)
  })
  test('signed for another route or agency: 401 bad_signature', async () => {
    const raw = JSON.stringify(invalid)
    const forAcme = signRequest(AGENCY_SECRET, { method: 'POST', path: '/v1/agencies/acme/updates', body: raw })
    const r = await agencyCall(app, 'demo', raw, { signature: forAcme })
    expect([r.status, reason(r)]).toEqual([401, 'bad_signature'])
    const other = await agencyCall(app, 'demo', raw, { secret: 'another-agency-secret-0123' })
    expect([other.status, reason(other)]).toEqual([401, 'bad_signature'])
    const unknown = await agencyCall(app, 'constructor', raw)
    expect([unknown.status, reason(unknown)]).toEqual([401, 'bad_signature'])
  })
  test('a tampered body: 401 bad_signature', async () => {
    const raw = JSON.stringify(valid)
    const sig = signRequest(AGENCY_SECRET, { method: 'POST', path: '/v1/agencies/demo/updates', body: raw })
    const r = await agencyCall(app, 'demo', raw.replace('cancelled', 'updated'), { signature: sig })
    expect([r.status, reason(r)]).toEqual([401, 'bad_signature'])
  })
  test('missing or malformed: 401 with its reason', async () => {
    expect(reason(await agencyCall(app, 'demo', invalid, { signature: 'nonsense' }))).toBe('malformed_signature')
  })
  test('legacy body-only signature, off by default: 401 legacy_signature_refused', async () => {
    const raw = JSON.stringify(invalid)
    const r = await agencyCall(app, 'demo', raw, { signature: signBodyLegacy(AGENCY_SECRET, raw) })
    expect([r.status, reason(r)]).toEqual([401, 'legacy_signature_refused'])
    expect(producer.sent).toEqual([])
  })
})

describe('with AGENCY_LEGACY_SIGNATURE=true', () => {
  const { app } = testApp({ settings: { AGENCY_LEGACY_SIGNATURE: true } })
  test('the legacy signature passes the signature step; a wrong one does not; v1 still works', async () => {
    const raw = JSON.stringify(invalid)
    expect((await agencyCall(app, 'demo', raw, { signature: signBodyLegacy(AGENCY_SECRET, raw) })).status).toBe(422)
    const wrong = await agencyCall(app, 'demo', raw, { signature: signBodyLegacy('another-agency-secret-0123', raw) })
    expect([wrong.status, reason(wrong)]).toEqual([401, 'bad_signature'])
    expect((await agencyCall(app, 'demo', raw)).status).toBe(422)
  })
  test('the body still needs updateId and occurredAt', async () => {
    const { updateId, occurredAt, ...old } = valid
    const raw = JSON.stringify(old)
    const r = await agencyCall(app, 'demo', raw, { signature: signBodyLegacy(AGENCY_SECRET, raw) })
    expect(r.status).toBe(422)
  })
})

describe('occurredAt', () => {
  const { app } = testApp()
  test('more than the tolerance in the future: 422 occurred_in_future (it would order every real update out)', async () => {
    const r = await agencyCall(app, 'demo', { ...valid, occurredAt: new Date(Date.now() + 301_000).toISOString() })
    expect(r.status).toBe(422)
    expect(r.json.error.details[0]).toMatchObject({ field: 'body.occurredAt', code: 'occurred_in_future' })
  })
})
