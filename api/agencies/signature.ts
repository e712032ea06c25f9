import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Agency request signature (wire format v1), header
 *
 *   X-Signature: t=<unix seconds>,v1=<hex>
 *
 * where
 *   hex     = lowercase (or uppercase) hex of HMAC-SHA256(key = the agency's secret as UTF-8, message)
 *   message = `${t}.${METHOD}.${path}.` followed by the raw request body bytes, exactly as sent
 *   t       = the time the agency signed, decimal unix seconds (1 to 12 digits)
 *   METHOD  = the HTTP method in upper case (`POST`)
 *   path    = the request path without query string, as sent: `/v1/agencies/<agencyId>/updates`,
 *             so the signature names the agency and the route and cannot be moved to another.
 * The two fields may come in either order, separated by one comma; nothing else is allowed.
 *
 * A request is accepted when the HMAC matches (constant-time comparison) AND |now - t| is at most
 * the tolerance (AGENCY_SIGNATURE_TOLERANCE_S): a captured request can be replayed only inside that
 * window, and the API's (agencyId, updateId) record refuses it there (api/agencies/dedupe.ts).
 * The HMAC is checked before the time, so only a holder of the secret learns that a clock is off.
 *
 * Legacy format (only with AGENCY_LEGACY_SIGNATURE=true, off by default): `X-Signature: sha256=<hex>`,
 * the HMAC of the raw body alone, with no time, agency or route: replayable for ever, kept only for
 * agencies moving to v1.
 */

export type SignatureFailure = 'missing_signature' | 'malformed_signature' | 'bad_signature' | 'signature_expired' | 'legacy_signature_refused'

export type SignatureCheck = { ok: true, format: 'v1' | 'legacy' } | { ok: false, reason: SignatureFailure }

export interface SignatureOptions {
  /** Largest accepted |now - t|, seconds. */
  toleranceS: number
  /** Accept the old body-only `sha256=` header. */
  allowLegacy: boolean
  /** Clock, epoch ms (tests). */
  now?: () => number
}

export interface SignedRequest {
  method: string
  path: string
  body: string | Uint8Array
}

const V1 = /^(?:t=(\d{1,12}),v1=([0-9a-fA-F]{64})|v1=([0-9a-fA-F]{64}),t=(\d{1,12}))$/
const LEGACY = /^sha256=([0-9a-fA-F]{64})$/

function mac (secret: string, r: SignedRequest, t: string): Buffer {
  return createHmac('sha256', secret).update(`${t}.${r.method.toUpperCase()}.${r.path}.`).update(r.body).digest()
}

/** The header value an agency sends (agencies, tests and the benchmark sign with this). */
export function signRequest (secret: string, r: SignedRequest, unixSeconds = Math.floor(Date.now() / 1000)): string {
  const t = String(Math.trunc(unixSeconds))
  return `t=${t},v1=${mac(secret, r, t).toString('hex')}`
}

/** The legacy header value (body only). */
export function signBodyLegacy (secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** Checks a request's X-Signature header against the agency's secret (undefined: unknown agency). */
export function checkSignature (secret: string | undefined, r: SignedRequest, header: string | null | undefined, o: SignatureOptions): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing_signature' }
  const value = header.trim()
  const v1 = V1.exec(value)
  if (v1) {
    if (!secret) return { ok: false, reason: 'bad_signature' }
    const t = (v1[1] ?? v1[4])!
    const given = Buffer.from((v1[2] ?? v1[3])!, 'hex')
    if (!timingSafeEqual(given, mac(secret, r, t))) return { ok: false, reason: 'bad_signature' }
    const nowS = (o.now?.() ?? Date.now()) / 1000
    if (Math.abs(nowS - Number(t)) > o.toleranceS) return { ok: false, reason: 'signature_expired' }
    return { ok: true, format: 'v1' }
  }
  const legacy = LEGACY.exec(value)
  if (legacy) {
    if (!o.allowLegacy) return { ok: false, reason: 'legacy_signature_refused' }
    if (!secret) return { ok: false, reason: 'bad_signature' }
    const given = Buffer.from(legacy[1]!, 'hex')
    const expected = createHmac('sha256', secret).update(r.body).digest()
    return timingSafeEqual(given, expected) ? { ok: true, format: 'legacy' } : { ok: false, reason: 'bad_signature' }
  }
  return { ok: false, reason: 'malformed_signature' }
}

export const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing_signature: 'the X-Signature header is missing',
  malformed_signature: 'X-Signature must be t=<unix seconds>,v1=<hex HMAC-SHA256>',
  bad_signature: 'X-Signature does not match',
  signature_expired: 'the signature time t is outside the accepted window; sign again with the current time',
  legacy_signature_refused: 'the body-only sha256= signature is no longer accepted; sign t.METHOD.path.body as v1'
}
