import { describe, expect, test } from 'bun:test'
import { checkSignature, signBodyLegacy, signRequest, type SignatureOptions, type SignedRequest } from './signature.ts'

const SECRET = 'demo-agency-secret-0123'
const OTHER_SECRET = 'other-agency-secret-0456'
const BODY = '{"reservationId":"01HZZZZZZZZZZZZZZZZZZZZZZZ"}'
const T = 1_764_800_000
const req: SignedRequest = { method: 'POST', path: '/v1/agencies/demo/updates', body: BODY }
/** Vectors computed outside this code, with openssl:
 *  printf '%s' '1764800000.POST./v1/agencies/demo/updates.<BODY>' | openssl dgst -sha256 -hmac <SECRET>
 *  printf '%s' '<BODY>' | openssl dgst -sha256 -hmac <SECRET> */
const V1_HEX = '53ca6935f4e00921e23040d7d8355e0e3f3156ce0ced63cd033901c5f6421fb0'
const LEGACY_HEX = 'dabe92476c926a9e675f03b5597080a8bc3110e400a467d50bb4d37b834190be'

const at = (unixS: number, o: Partial<SignatureOptions> = {}): SignatureOptions => ({ toleranceS: 300, allowLegacy: false, now: () => unixS * 1000, ...o })

describe('v1: t=<unix s>,v1=<hex HMAC of "t.METHOD.path.body">', () => {
  test('matches the documented format (openssl vector), in either field order', () => {
    expect(signRequest(SECRET, req, T)).toBe(`t=${T},v1=${V1_HEX}`)
    expect(checkSignature(SECRET, req, `t=${T},v1=${V1_HEX}`, at(T))).toEqual({ ok: true, format: 'v1' })
    expect(checkSignature(SECRET, req, `v1=${V1_HEX},t=${T}`, at(T))).toEqual({ ok: true, format: 'v1' })
    expect(checkSignature(SECRET, req, `t=${T},v1=${V1_HEX.toUpperCase()}`, at(T))).toEqual({ ok: true, format: 'v1' })
    expect(checkSignature(SECRET, { ...req, body: new TextEncoder().encode(BODY) }, `t=${T},v1=${V1_HEX}`, at(T)).ok).toBe(true)
  })

  test('the replay window: |now - t| <= tolerance, either way', () => {
    const h = `t=${T},v1=${V1_HEX}`
    expect(checkSignature(SECRET, req, h, at(T + 300)).ok).toBe(true)
    expect(checkSignature(SECRET, req, h, at(T - 300)).ok).toBe(true)
    expect(checkSignature(SECRET, req, h, at(T + 301))).toEqual({ ok: false, reason: 'signature_expired' })
    expect(checkSignature(SECRET, req, h, at(T - 301))).toEqual({ ok: false, reason: 'signature_expired' })
    expect(checkSignature(SECRET, req, h, at(T + 3600, { toleranceS: 3600 })).ok).toBe(true)
    expect(checkSignature(SECRET, req, h, at(T + 31, { toleranceS: 30 }))).toEqual({ ok: false, reason: 'signature_expired' })
  })

  test('the route and the agency are signed: another path, method or secret does not match', () => {
    const h = `t=${T},v1=${V1_HEX}`
    expect(checkSignature(SECRET, { ...req, path: '/v1/agencies/acme/updates' }, h, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
    expect(checkSignature(SECRET, { ...req, path: '/v1/agencies/demo/updates/' }, h, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
    expect(checkSignature(SECRET, { ...req, method: 'PUT' }, h, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
    expect(checkSignature(OTHER_SECRET, req, h, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
    expect(checkSignature(undefined, req, h, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('tampering: a changed body byte, a moved t or a changed hex digit does not match', () => {
    const h = `t=${T},v1=${V1_HEX}`
    expect(checkSignature(SECRET, { ...req, body: BODY.replace('Z"', 'Y"') }, h, at(T)).ok).toBe(false)
    expect(checkSignature(SECRET, { ...req, body: BODY + ' ' }, h, at(T)).ok).toBe(false)
    expect(checkSignature(SECRET, req, `t=${T + 1},v1=${V1_HEX}`, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
    const flipped = V1_HEX.slice(0, -1) + (V1_HEX.endsWith('0') ? '1' : '0')
    expect(checkSignature(SECRET, req, `t=${T},v1=${flipped}`, at(T))).toEqual({ ok: false, reason: 'bad_signature' })
    // A fresh t on a captured signature is no way around the window.
    expect(checkSignature(SECRET, req, `t=${T + 600},v1=${V1_HEX}`, at(T + 600))).toEqual({ ok: false, reason: 'bad_signature' })
  })

  test('missing or malformed headers', () => {
    expect(checkSignature(SECRET, req, undefined, at(T))).toEqual({ ok: false, reason: 'missing_signature' })
    expect(checkSignature(SECRET, req, '', at(T))).toEqual({ ok: false, reason: 'missing_signature' })
    for (const h of [`t=${T}`, `v1=${V1_HEX}`, `t=${T},v1=${V1_HEX.slice(1)}`, `t=${T},v1=${V1_HEX},v1=${V1_HEX}`, `t=${T}, v1=${V1_HEX}`,
      `t=-${T},v1=${V1_HEX}`, `t=${T}.5,v1=${V1_HEX}`, `t=1234567890123,v1=${V1_HEX}`, `t=${T},v0=${V1_HEX}`, 'sha256=zz', `t=${T};v1=${V1_HEX}`]) {
      expect(checkSignature(SECRET, req, h, at(T))).toEqual({ ok: false, reason: 'malformed_signature' })
    }
  })
})

describe('legacy sha256=<hex of the body>', () => {
  test('refused by default, with its own reason', () => {
    expect(signBodyLegacy(SECRET, BODY)).toBe(`sha256=${LEGACY_HEX}`)
    expect(checkSignature(SECRET, req, `sha256=${LEGACY_HEX}`, at(T))).toEqual({ ok: false, reason: 'legacy_signature_refused' })
  })
  test('accepted only with allowLegacy, and only when it matches', () => {
    const o = at(T, { allowLegacy: true })
    expect(checkSignature(SECRET, req, `sha256=${LEGACY_HEX}`, o)).toEqual({ ok: true, format: 'legacy' })
    expect(checkSignature(OTHER_SECRET, req, `sha256=${LEGACY_HEX}`, o)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(checkSignature(undefined, req, `sha256=${LEGACY_HEX}`, o)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(checkSignature(SECRET, { ...req, body: BODY + ' ' }, `sha256=${LEGACY_HEX}`, o)).toEqual({ ok: false, reason: 'bad_signature' })
    // v1 keeps working beside it.
    expect(checkSignature(SECRET, req, `t=${T},v1=${V1_HEX}`, o)).toEqual({ ok: true, format: 'v1' })
  })
})
