import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createLogger } from '../../shared/log/logger.ts'
import { call, testApp, token } from '../testing.ts'
import { JwksKeys } from './jwks.ts'
import { TokenVerifier } from './verifier.ts'

// The API with an identity provider's keys served over HTTP on loopback, and no HS256 secret.
const log = createLogger('jwks-app-test', 'error', {}, () => {})
let server: ReturnType<typeof Bun.serve>
let privateKey: CryptoKey
let keys: JwksKeys

beforeAll(async () => {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair
  privateKey = pair.privateKey
  const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'idp-1', use: 'sig', alg: 'ES256' }
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => Response.json({ keys: [jwk] }) })
  keys = new JwksKeys({ url: `http://127.0.0.1:${server.port}/.well-known/jwks.json`, refreshMs: 60_000, log })
  await keys.start()
})
afterAll(() => { keys.stop(); server.stop(true) })

async function idpToken (sub: string): Promise<string> {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'ES256', kid: 'idp-1', typ: 'JWT' })}.${b64({ sub, iss: 'https://idp.example/', aud: 'road-warrior', iat: now, exp: now + 300 })}`
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}

test('a token of the identity provider is accepted; an HS256 token is refused when no secret is configured', async () => {
  const { app } = testApp({ tokens: new TokenVerifier({ jwks: keys, issuer: 'https://idp.example/', audience: 'road-warrior' }) })
  // A route that needs no DynamoDB (the test's table is unreachable): the ticket names the token's user.
  const ok = await call(app, 'POST', '/v1/notifications/stream-tickets', { headers: { authorization: `Bearer ${await idpToken('alice')}` } })
  expect(ok.status).toBe(201)
  expect(JSON.parse(Buffer.from(ok.json.ticket.split('.')[1], 'base64url').toString()).sub).toBe('alice')
  const hs = await call(app, 'POST', '/v1/notifications/stream-tickets', { headers: { authorization: `Bearer ${token('alice')}` } })
  expect({ status: hs.status, message: hs.json.error.message }).toEqual({ status: 401, message: 'invalid token: unsupported algorithm' })
})

test('the identity provider unreachable since start: 503 with Retry-After, not 401', async () => {
  const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') })
  const url = `http://127.0.0.1:${closed.port}/jwks`
  closed.stop(true)
  const down = new JwksKeys({ url, refreshMs: 60_000, timeoutMs: 1000, log })
  await down.start()
  down.stop()
  expect(down.ready()).toBe(false)
  const { app, producer } = testApp({ tokens: new TokenVerifier({ jwks: down, issuer: 'https://idp.example/', audience: 'road-warrior' }) })
  const r = await call(app, 'POST', '/v1/trips', { body: { name: 'Lisbon' }, headers: { authorization: `Bearer ${await idpToken('alice')}` } })
  expect({ status: r.status, code: r.json.error.code, retryAfter: r.headers.get('retry-after') }).toEqual({ status: 503, code: 'keys_unavailable', retryAfter: '5' })
  expect(producer.sent).toEqual([])
})
