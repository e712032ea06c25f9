import { beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../shared/log/logger.ts'
import { JwksKeys, type JwksOptions } from './jwks.ts'
import { signJwt, verifyJwt } from './jwt.ts'
import { TokenVerifier } from './verifier.ts'

const SECRET = 'a-secret-of-at-least-thirty-two-characters'
const now = () => Math.floor(Date.now() / 1000)
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iss: 'https://idp.example/', aud: 'road-warrior', iat: now(), exp: now() + 600, ...extra })
/** What a key set requires: the provider's issuer and this API's audience. */
const idp = { issuer: 'https://idp.example/', audience: 'road-warrior' }
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
type Jwk = Record<string, unknown>
const log = createLogger('jwks-test', 'error', {}, () => {})

interface Signer { alg: 'RS256' | 'ES256', kid: string, privateKey: CryptoKey, jwk: Jwk }

async function signer (alg: 'RS256' | 'ES256', kid: string, modulusLength = 2048): Promise<Signer> {
  const params = alg === 'RS256'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: 'P-256' }
  const pair = await crypto.subtle.generateKey(params, true, ['sign', 'verify']) as CryptoKeyPair
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey)
  return { alg, kid, privateKey: pair.privateKey, jwk: { ...jwk, kid, use: 'sig', alg } as Jwk }
}

async function sign (s: Signer, body: Record<string, unknown>, header: Record<string, unknown> = { alg: s.alg, kid: s.kid, typ: 'JWT' }): Promise<string> {
  const input = `${b64(header)}.${b64(body)}`
  const algo = s.alg === 'RS256' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' }
  const sig = await crypto.subtle.sign(algo, s.privateKey, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}

/** A JWKS endpoint as a fetch function: serves `sets[i]` on the i-th fetch (the last one after). */
function provider (...sets: Array<Jwk[] | 'down'>) {
  let fetches = 0
  const fetch: NonNullable<JwksOptions['fetch']> = async () => {
    const set = sets[Math.min(fetches++, sets.length - 1)]!
    if (set === 'down') throw new Error('connection refused')
    return new Response(JSON.stringify({ keys: set }), { status: 200 })
  }
  return { fetch, fetches: () => fetches }
}

let rsa: Signer, rsaNext: Signer, ec: Signer, stranger: Signer
beforeAll(async () => {
  [rsa, rsaNext, ec, stranger] = await Promise.all([signer('RS256', 'k1'), signer('RS256', 'k2'), signer('ES256', 'e1'), signer('RS256', 'k1')])
})

describe('HS256', () => {
  test('signed with the secret: accepted; claims enforced', () => {
    expect(verifyJwt(SECRET, signJwt(SECRET, claims()))).toMatchObject({ ok: true, userId: 'alice' })
    expect(verifyJwt(SECRET, signJwt('another-secret-of-thirty-two-characters!', claims()))).toEqual({ ok: false, reason: 'bad signature' })
    expect(verifyJwt(SECRET, signJwt(SECRET, claims({ exp: now() - 120 })))).toEqual({ ok: false, reason: 'token expired' })
    expect(verifyJwt(SECRET, signJwt(SECRET, claims({ nbf: now() + 600 })))).toEqual({ ok: false, reason: 'token not yet valid' })
    expect(verifyJwt(SECRET, signJwt(SECRET, claims({ sub: 'no spaces allowed' })))).toEqual({ ok: false, reason: 'sub is not a user id' })
    expect(verifyJwt(SECRET, `${b64({ alg: 'none' })}.${b64(claims())}.`)).toEqual({ ok: false, reason: 'unsupported algorithm' })
    expect(verifyJwt(SECRET, 'a.b')).toEqual({ ok: false, reason: 'malformed token' })
  })
})

describe('JWKS (RS256, ES256)', () => {
  test('tokens of the provider\'s RSA and P-256 keys are accepted; a token signed by another key with the same kid is not', async () => {
    const p = provider([rsa.jwk, ec.jwk])
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, fetch: p.fetch, log })
    await keys.start()
    keys.stop()
    expect(keys.ready()).toBe(true)
    const v = new TokenVerifier({ jwks: keys, ...idp })
    expect(await v.verify(await sign(rsa, claims()))).toMatchObject({ ok: true, userId: 'alice' })
    expect(await v.verify(await sign(ec, claims({ sub: 'bob' })))).toMatchObject({ ok: true, userId: 'bob' })
    expect(await v.verify(await sign(stranger, claims()))).toEqual({ ok: false, reason: 'bad signature' })
    expect(await v.verify(await sign(rsa, claims({ exp: now() - 120 })))).toEqual({ ok: false, reason: 'token expired' })
    expect(p.fetches()).toBe(1)
  })

  test('the algorithm must match the key: no HS256 without a secret, no RS256 key used for ES256, never none', async () => {
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, fetch: provider([rsa.jwk]).fetch, log })
    await keys.start()
    keys.stop()
    const v = new TokenVerifier({ jwks: keys, ...idp })
    // HS256 "signed" with the public key's modulus as the secret: the classic confusion attack.
    expect(await v.verify(signJwt(String(rsa.jwk.n), claims()))).toEqual({ ok: false, reason: 'unsupported algorithm' })
    expect(await v.verify(await sign(rsa, claims(), { alg: 'ES256', kid: 'k1' }))).toEqual({ ok: false, reason: 'unknown signing key' })
    expect(await v.verify(`${b64({ alg: 'none', kid: 'k1' })}.${b64(claims())}.`)).toEqual({ ok: false, reason: 'unsupported algorithm' })
    // Without kid only when one key of the algorithm leaves no doubt.
    expect(await v.verify(await sign(rsa, claims(), { alg: 'RS256' }))).toMatchObject({ ok: true })
  })

  test('a token naming a new key fetches the set again (rotation), at most once per interval', async () => {
    let t = 0
    const p = provider([rsa.jwk], [rsa.jwk, rsaNext.jwk])
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, minRefetchMs: 30_000, fetch: p.fetch, log, now: () => t })
    await keys.start()
    keys.stop()
    const v = new TokenVerifier({ jwks: keys, ...idp })
    t = 1000
    // Too soon after the last fetch: unknown, no fetch.
    expect(await v.verify(await sign(rsaNext, claims()))).toEqual({ ok: false, reason: 'unknown signing key' })
    expect(p.fetches()).toBe(1)
    t = 31_000
    expect(await v.verify(await sign(rsaNext, claims()))).toMatchObject({ ok: true })
    expect(p.fetches()).toBe(2)
    // Made-up key ids do not turn into a fetch each.
    const forged = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(stranger, claims(), { alg: 'RS256', kid: `x${i}` })))
    for (const f of forged) expect(await v.verify(f)).toEqual({ ok: false, reason: 'unknown signing key' })
    expect(p.fetches()).toBe(2)
  })

  test('provider down at start: not ready, tokens answered as unavailable (503), until a later fetch succeeds', async () => {
    let t = 0
    const p = provider('down', [rsa.jwk])
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, minRefetchMs: 5000, fetch: p.fetch, log, now: () => t })
    await keys.start()
    keys.stop()
    expect(keys.ready()).toBe(false)
    const v = new TokenVerifier({ jwks: keys, secret: SECRET, ...idp })
    expect(await v.verify(await sign(rsa, claims()))).toEqual({ ok: false, reason: 'signing keys unavailable', unavailable: true })
    // HS256 tokens keep working meanwhile.
    expect(await v.verify(signJwt(SECRET, claims()))).toMatchObject({ ok: true })
    t = 6000
    expect(await v.verify(await sign(rsa, claims()))).toMatchObject({ ok: true })
    expect(keys.ready()).toBe(true)
  })

  test('a failed refresh keeps the keys; unusable keys are skipped (small RSA, encryption keys, other curves)', async () => {
    let t = 0
    const small = await signer('RS256', 'small', 1024)
    const p = provider([rsa.jwk, small.jwk, { ...ec.jwk, kid: 'enc', use: 'enc' }, { kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA', kid: 'p384' }], 'down')
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, minRefetchMs: 10, fetch: p.fetch, log, now: () => t })
    await keys.start()
    keys.stop()
    expect(keys.size).toBe(1)
    const v = new TokenVerifier({ jwks: keys, ...idp })
    expect(await v.verify(await sign(small, claims()))).toEqual({ ok: false, reason: 'unknown signing key' })
    t = 100
    // Fetched again for the unknown key id: the provider is down, the key we had still serves.
    expect(await v.verify(await sign(stranger, claims(), { alg: 'RS256', kid: 'nope' }))).toEqual({ ok: false, reason: 'unknown signing key' })
    expect(p.fetches()).toBe(2)
    expect(await v.verify(await sign(rsa, claims()))).toMatchObject({ ok: true })
  })

  test('issuer and audience, when expected, must match', async () => {
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, fetch: provider([rsa.jwk]).fetch, log })
    await keys.start()
    keys.stop()
    const v = new TokenVerifier({ jwks: keys, issuer: 'https://idp.example/', audience: 'road-warrior' })
    expect(await v.verify(await sign(rsa, claims({ iss: 'https://idp.example/', aud: ['other', 'road-warrior'] })))).toMatchObject({ ok: true })
    expect(await v.verify(await sign(rsa, claims({ iss: 'https://evil.example/', aud: 'road-warrior' })))).toEqual({ ok: false, reason: 'wrong issuer' })
    expect(await v.verify(await sign(rsa, claims({ iss: 'https://idp.example/', aud: 'other' })))).toEqual({ ok: false, reason: 'wrong audience' })
    expect(await v.verify(await sign(rsa, claims({ iss: 'https://idp.example/', aud: undefined })))).toEqual({ ok: false, reason: 'wrong audience' })
    expect(await v.verify(await sign(rsa, claims({ iss: undefined })))).toEqual({ ok: false, reason: 'wrong issuer' })
  })

  test('a key set larger than maxBytes is refused without being read whole; the keys held are kept', async () => {
    let served = 0
    const huge: NonNullable<JwksOptions['fetch']> = async () => {
      served++
      if (served === 1) return new Response(JSON.stringify({ keys: [rsa.jwk] }), { status: 200 })
      // No Content-Length: the cap must hold while reading.
      return new Response(new ReadableStream({ pull (c) { c.enqueue(new Uint8Array(64 * 1024).fill(32)) } }), { status: 200 })
    }
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, minRefetchMs: 0, maxBytes: 100_000, fetch: huge, log })
    await keys.start()
    keys.stop()
    expect(keys.size).toBe(1)
    const v = new TokenVerifier({ jwks: keys, ...idp })
    expect(await v.verify(await sign(rsaNext, claims()))).toEqual({ ok: false, reason: 'unknown signing key' }) // refetched: too large
    expect(served).toBe(2)
    expect(await v.verify(await sign(rsa, claims()))).toMatchObject({ ok: true })
  })

  test('a key set needs the issuer and the audience, and comes over https (http only from loopback)', () => {
    const keys = new JwksKeys({ url: 'https://idp.example/jwks', refreshMs: 60_000, fetch: provider([rsa.jwk]).fetch, log })
    expect(() => new TokenVerifier({ jwks: keys })).toThrow('issuer and the audience')
    expect(() => new TokenVerifier({ jwks: keys, issuer: 'https://idp.example/' })).toThrow('issuer and the audience')
    expect(() => new TokenVerifier({ jwks: keys, audience: 'road-warrior' })).toThrow('issuer and the audience')
    for (const url of ['http://idp.example/jwks', 'http://10.0.0.1/jwks', 'http://127.0.0.1.evil.example/jwks', 'ftp://idp.example/jwks']) {
      expect(() => new JwksKeys({ url, refreshMs: 60_000, log })).toThrow('must be https')
    }
    for (const url of ['http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9/jwks']) {
      expect(() => new JwksKeys({ url, refreshMs: 60_000, log })).not.toThrow()
    }
  })
})
