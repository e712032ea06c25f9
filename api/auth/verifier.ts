import { ASYMMETRIC_ALGS, verifyAlgorithm, type AsymmetricAlg, type JwksKeys } from './jwks.ts'
import { checkClaims, decodeJwt, hs256Valid, type JwtResult } from './jwt.ts'

/**
 * Checks user tokens: HS256 with the shared secret, and RS256/ES256 with an identity provider's
 * keys (JWKS), each only when configured. The algorithm a token names must be one of those, and
 * each key serves its own algorithm only: a public key is never used as an HMAC secret.
 */
export interface TokenVerifierOptions {
  secret?: string
  jwks?: JwksKeys
  issuer?: string
  audience?: string
  skewS?: number
}

/** `unavailable`: the token may be fine, but the keys to check it could not be loaded (a 503, not a 401). */
export type VerifyResult = JwtResult | { ok: false, reason: string, unavailable: true }

export class TokenVerifier {
  constructor (private readonly o: TokenVerifierOptions) {
    if (!o.secret && !o.jwks) throw new Error('a token verifier needs a secret or a JWKS')
    // Another app of the same identity provider signs with the same keys: only iss and aud tell its tokens apart.
    if (o.jwks && (!o.issuer || !o.audience)) throw new Error('a token verifier with a JWKS needs the issuer and the audience')
  }

  /** Seconds past `exp` a token is still accepted (clock skew): a stream opened with it ends then. */
  get skewS (): number { return this.o.skewS ?? 30 }

  async verify (token: string, nowS = Math.floor(Date.now() / 1000)): Promise<VerifyResult> {
    const d = decodeJwt(token)
    if (!d.ok) return d
    const { header } = d.jwt
    if (header.alg === 'HS256' && this.o.secret) {
      if (!hs256Valid(this.o.secret, d.jwt)) return { ok: false, reason: 'bad signature' }
    } else if (typeof header.alg === 'string' && ASYMMETRIC_ALGS.includes(header.alg) && this.o.jwks) {
      const alg = header.alg as AsymmetricAlg
      if (header.kid !== undefined && typeof header.kid !== 'string') return { ok: false, reason: 'malformed token' }
      const found = await this.o.jwks.key(header.kid, alg)
      if (!found.ok) return found.reason === 'unavailable' ? { ok: false, reason: 'signing keys unavailable', unavailable: true } : { ok: false, reason: 'unknown signing key' }
      const data = new TextEncoder().encode(d.jwt.signingInput)
      const valid = await crypto.subtle.verify(verifyAlgorithm(alg), found.key, new Uint8Array(d.jwt.signature), data).catch(() => false)
      if (!valid) return { ok: false, reason: 'bad signature' }
    } else {
      return { ok: false, reason: 'unsupported algorithm' }
    }
    return checkClaims(d.jwt.claims, { nowS, skewS: this.o.skewS, issuer: this.o.issuer, audience: this.o.audience })
  }
}
