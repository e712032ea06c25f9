import { afterAll, expect, test } from 'bun:test'
import { createLogger } from '../../shared/log/logger.ts'
import { waitFor } from '../../test/support/stack.ts'
import { JwksKeys } from './jwks.ts'

// A provider on loopback whose key set rotates on its own: no token names the new key, so only the
// periodic refresh can pick it up (the unknown-key fetch is held off by a huge minRefetchMs).
const log = createLogger('jwks-refresh-test', 'error', {}, () => {})

async function publicJwk (kid: string): Promise<Record<string, unknown>> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair
  return { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid, use: 'sig', alg: 'ES256' }
}

let served: Array<Record<string, unknown>> = []
let fetches = 0
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => { fetches++; return Response.json({ keys: served }) } })
let keys: JwksKeys | undefined
afterAll(() => { keys?.stop(); server.stop(true) })

test('keys are fetched again every refreshMs, with no token asking: a rotated-out key is dropped, the new one known', async () => {
  served = [await publicJwk('old')]
  const next = await publicJwk('new')
  keys = new JwksKeys({ url: `http://127.0.0.1:${server.port}/jwks`, refreshMs: 100, minRefetchMs: 1e12, log })
  await keys.start()
  expect(await keys.key('old', 'ES256')).toMatchObject({ ok: true })
  expect(fetches).toBe(1)

  served = [next]
  // Only known-key lookups and no lookups at all meanwhile: neither can trigger a fetch.
  await waitFor('the rotated set to be loaded', async () => (await keys!.key('old', 'ES256')).ok === false, 5000, 20)
  expect(await keys.key('old', 'ES256')).toEqual({ ok: false, reason: 'unknown key' })
  expect(await keys.key('new', 'ES256')).toMatchObject({ ok: true })
  const seen = fetches
  expect(seen).toBeGreaterThanOrEqual(2)
  // And it goes on: about one fetch per refreshMs.
  await Bun.sleep(1000)
  expect(fetches - seen).toBeGreaterThanOrEqual(5)
  expect(fetches - seen).toBeLessThanOrEqual(15)
})
