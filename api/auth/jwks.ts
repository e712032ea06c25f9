import type { Logger } from '../../shared/log/logger.ts'

/**
 * The signing keys of an identity provider, from its JWKS URL (RFC 7517): fetched at start,
 * refreshed every `refreshMs`, and fetched again when a token names a key id we do not know
 * (the provider rotated its keys), at most once every `minRefetchMs` so that tokens with made-up
 * key ids cannot turn the API into a load generator against the provider. A failed refresh keeps
 * the keys we have. Supported: RSA keys of 2048 bits or more for RS256, P-256 keys for ES256.
 */
export type AsymmetricAlg = 'RS256' | 'ES256'
export const ASYMMETRIC_ALGS: readonly string[] = ['RS256', 'ES256']

export interface JwksOptions {
  url: string
  refreshMs: number
  minRefetchMs?: number
  timeoutMs?: number
  maxBytes?: number
  log: Logger
  fetch?: (url: string, init: RequestInit) => Promise<Response>
  now?: () => number
}

interface SigningKey { kid: string | undefined, alg: AsymmetricAlg, key: CryptoKey }
type JsonWebKeyIn = Record<string, unknown>

/** Why a key could not be had: none loaded yet (provider unreachable), or no key of that id. */
export type KeyLookup = { ok: true, key: CryptoKey } | { ok: false, reason: 'unavailable' | 'unknown key' }

/** A key set comes over https; http only from a loopback host (tests, a local provider). */
export function jwksUrlAllowed (url: string): boolean {
  let u: URL
  try { u = new URL(url) } catch { return false }
  if (u.protocol === 'https:') return true
  if (u.protocol !== 'http:') return false
  const host = u.hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

export const verifyAlgorithm = (alg: AsymmetricAlg): { name: string, hash?: string } =>
  alg === 'RS256' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' }

export class JwksKeys {
  private keys: SigningKey[] = []
  private loaded = false
  private lastFetch = -Infinity
  private inflight: Promise<void> | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly now: () => number

  constructor (private readonly o: JwksOptions) {
    if (!jwksUrlAllowed(o.url)) throw new Error(`the JWKS URL must be https (http only for loopback): ${o.url}`)
    this.now = o.now ?? (() => performance.now())
  }

  /** Loads the keys (a failure is logged; lookups retry) and starts the periodic refresh. */
  async start (): Promise<void> {
    await this.refresh()
    this.timer = setInterval(() => void this.refresh(), this.o.refreshMs)
    this.timer.unref?.()
  }

  stop (): void { clearInterval(this.timer) }

  /** Ready once a key set was loaded. */
  ready (): boolean { return this.loaded }

  get size (): number { return this.keys.length }

  async key (kid: string | undefined, alg: AsymmetricAlg): Promise<KeyLookup> {
    let found = this.find(kid, alg)
    if (!found && this.now() - this.lastFetch >= (this.o.minRefetchMs ?? 30_000)) {
      await this.refresh()
      found = this.find(kid, alg)
    }
    if (found) return { ok: true, key: found.key }
    return { ok: false, reason: this.loaded ? 'unknown key' : 'unavailable' }
  }

  private find (kid: string | undefined, alg: AsymmetricAlg): SigningKey | undefined {
    // A token without `kid` is accepted only when the set leaves no doubt: one key of its algorithm.
    if (kid === undefined) {
      const of = this.keys.filter(k => k.alg === alg)
      return of.length === 1 ? of[0] : undefined
    }
    return this.keys.find(k => k.kid === kid && k.alg === alg)
  }

  /** One fetch at a time; concurrent callers share it. */
  private refresh (): Promise<void> {
    this.inflight ??= this.load().finally(() => { this.inflight = undefined })
    return this.inflight
  }

  private async load (): Promise<void> {
    this.lastFetch = this.now()
    const log = this.o.log
    try {
      const res = await (this.o.fetch ?? fetch)(this.o.url, { signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000), headers: { accept: 'application/json' }, redirect: 'error' })
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
      const text = await readCapped(res, this.o.maxBytes ?? 1_000_000)
      const body = JSON.parse(text) as { keys?: unknown }
      if (!Array.isArray(body.keys)) throw new Error('no "keys" array')
      const keys: SigningKey[] = []
      let skipped = 0
      for (const jwk of body.keys) {
        const k = await importSigningKey(jwk as JsonWebKeyIn).catch(() => undefined)
        if (k) keys.push(k)
        else skipped++
      }
      if (keys.length === 0) throw new Error(`no usable signing key (${skipped} skipped)`)
      this.keys = keys
      this.loaded = true
      log.info('jwks_loaded', { url: this.o.url, keys: keys.length, skipped })
    } catch (err) {
      log.warn('jwks_refresh_failed', { url: this.o.url, error: err as Error, keeping: this.keys.length })
    }
  }
}

/** A JWK as a verification key, or undefined when it is not one we accept. */
export async function importSigningKey (jwk: JsonWebKeyIn): Promise<SigningKey | undefined> {
  if (typeof jwk !== 'object' || jwk === null) return undefined
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined
  if (jwk.kty === 'RSA' && (jwk.alg === undefined || jwk.alg === 'RS256') && typeof jwk.n === 'string' && typeof jwk.e === 'string') {
    if (Buffer.from(jwk.n, 'base64url').length < 256) return undefined // under 2048 bits
    const key = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify'])
    return { kid, alg: 'RS256', key }
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === 'ES256') && typeof jwk.x === 'string' && typeof jwk.y === 'string') {
    const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
    return { kid, alg: 'ES256', key }
  }
  return undefined
}

/** The body as text, read no further than `max` bytes (a key set is small; a huge one is refused unread). */
async function readCapped (res: Response, max: number): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > max) throw new Error('key set too large')
  const reader = res.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const r = await reader.read()
    if (r.done) break
    size += r.value.byteLength
    if (size > max) { void reader.cancel().catch(() => {}); throw new Error('key set too large') }
    chunks.push(r.value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
