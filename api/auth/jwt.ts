import { createHmac, timingSafeEqual } from 'node:crypto'
import { USER_ID_PATTERN } from '../../shared/schemas/ids.ts'

/**
 * JWT compact form (RFC 7519 / 7515): `base64url(header).base64url(payload).base64url(sig)`.
 * Pure parts of token checking: decoding, the HS256 signature, and the claims. `sub` is the user
 * id and must look like one; `exp` is required; `nbf` is honoured with a small clock skew; `iss`
 * and `aud` are checked when expected. Asymmetric signatures (JWKS) are checked in verifier.ts.
 */
export type JwtResult = { ok: true, userId: string, exp: number } | { ok: false, reason: string }

export interface JwtHeader { alg?: unknown, kid?: unknown, typ?: unknown }
export interface JwtClaims { sub?: unknown, exp?: unknown, nbf?: unknown, iss?: unknown, aud?: unknown }
export interface DecodedJwt {
  header: JwtHeader
  claims: JwtClaims
  /** `<header>.<payload>` as sent: what the signature covers. */
  signingInput: string
  signature: Buffer
}

export interface ClaimRules {
  nowS?: number
  skewS?: number
  /** When set, `iss` must equal it. */
  issuer?: string
  /** When set, `aud` (a string or a list) must contain it. */
  audience?: string
}

const userIdRe = new RegExp(USER_ID_PATTERN)
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function signJwt (secret: string, claims: { sub: string, exp: number, iat?: number, [k: string]: unknown }): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

export function decodeJwt (token: string): { ok: true, jwt: DecodedJwt } | { ok: false, reason: string } {
  if (token.length > 8192) return { ok: false, reason: 'token too long' }
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed token' }
  const [head, body, sig] = parts as [string, string, string]
  let header: unknown
  let claims: unknown
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: 'malformed token' }
  }
  if (!isObject(header)) return { ok: false, reason: 'malformed token' }
  if (!isObject(claims)) return { ok: false, reason: 'malformed claims' }
  return { ok: true, jwt: { header, claims, signingInput: `${head}.${body}`, signature: Buffer.from(sig, 'base64url') } }
}

/** HS256: HMAC-SHA256 of the signing input, compared in constant time. */
export function hs256Valid (secret: string, jwt: DecodedJwt): boolean {
  const expected = createHmac('sha256', secret).update(jwt.signingInput).digest()
  return jwt.signature.length === expected.length && timingSafeEqual(jwt.signature, expected)
}

/** The claims of a token whose signature is already verified. */
export function checkClaims (claims: JwtClaims, rules: ClaimRules = {}): JwtResult {
  const nowS = rules.nowS ?? Math.floor(Date.now() / 1000)
  const skewS = rules.skewS ?? 30
  if (typeof claims.exp !== 'number') return { ok: false, reason: 'exp missing' }
  if (claims.exp + skewS <= nowS) return { ok: false, reason: 'token expired' }
  if (typeof claims.nbf === 'number' && claims.nbf - skewS > nowS) return { ok: false, reason: 'token not yet valid' }
  if (rules.issuer !== undefined && claims.iss !== rules.issuer) return { ok: false, reason: 'wrong issuer' }
  if (rules.audience !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!aud.includes(rules.audience)) return { ok: false, reason: 'wrong audience' }
  }
  if (typeof claims.sub !== 'string' || !userIdRe.test(claims.sub)) return { ok: false, reason: 'sub is not a user id' }
  return { ok: true, userId: claims.sub, exp: claims.exp }
}

/**
 * An HS256 token checked with `secret`. Only `alg: HS256` is accepted (never `none`, never
 * another algorithm named by the token).
 */
export function verifyJwt (secret: string, token: string, nowS = Math.floor(Date.now() / 1000), skewS = 30): JwtResult {
  const d = decodeJwt(token)
  if (!d.ok) return d
  if (d.jwt.header.alg !== 'HS256') return { ok: false, reason: 'unsupported algorithm' }
  if (!hs256Valid(secret, d.jwt)) return { ok: false, reason: 'bad signature' }
  return checkClaims(d.jwt.claims, { nowS, skewS })
}
