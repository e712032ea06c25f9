import { createHmac, timingSafeEqual } from 'node:crypto'
import { USER_ID_PATTERN } from '../../shared/schemas/ids.ts'

/**
 * JWT HS256 (RFC 7519 / 7515 compact form): `base64url(header).base64url(payload).base64url(sig)`,
 * sig = HMAC-SHA256(secret, "<header>.<payload>"). Only `alg: HS256` is accepted (never `none`,
 * never another algorithm named by the token). `sub` is the user id and must look like one; `exp`
 * is required; `nbf` and `iat` are honoured with a small clock skew.
 */
export type JwtResult = { ok: true, userId: string, exp: number } | { ok: false, reason: string }

const userIdRe = new RegExp(USER_ID_PATTERN)
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

export function signJwt (secret: string, claims: { sub: string, exp: number, iat?: number, [k: string]: unknown }): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

export function verifyJwt (secret: string, token: string, nowS = Math.floor(Date.now() / 1000), skewS = 30): JwtResult {
  if (token.length > 4096) return { ok: false, reason: 'token too long' }
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed token' }
  const [head, body, sig] = parts as [string, string, string]
  let header: { alg?: unknown, typ?: unknown }
  let claims: { sub?: unknown, exp?: unknown, nbf?: unknown }
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: 'malformed token' }
  }
  if (typeof header !== 'object' || header === null || header.alg !== 'HS256') return { ok: false, reason: 'unsupported algorithm' }
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest()
  const given = Buffer.from(sig, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' }
  if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed claims' }
  if (typeof claims.exp !== 'number') return { ok: false, reason: 'exp missing' }
  if (claims.exp + skewS <= nowS) return { ok: false, reason: 'token expired' }
  if (typeof claims.nbf === 'number' && claims.nbf - skewS > nowS) return { ok: false, reason: 'token not yet valid' }
  if (typeof claims.sub !== 'string' || !userIdRe.test(claims.sub)) return { ok: false, reason: 'sub is not a user id' }
  return { ok: true, userId: claims.sub, exp: claims.exp }
}
