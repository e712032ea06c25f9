/**
 * The API as a process (`bun api/main.ts`), as the README describes it: a taken port stops it
 * naming PORT; it is not ready until the identity provider's key set is loaded; on SIGTERM it drains
 * (readiness false for DRAIN_DELAY_MS, requests in flight answered, new ones refused at connect).
 * Each test runs its own API process; they run side by side (the key set test waits out a refresh).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { ensureTable } from '../shared/dynamo/table.ts'
import { ensureTopics } from '../shared/kafka/topics.ts'
import { testLogger } from '../test/support/logger.ts'
import { brokers, freePort, stackEnv, uniq, waitFor } from '../test/support/stack.ts'
import { signJwt } from './auth/jwt.ts'

const repo = join(import.meta.dir, '..')
const JWT_SECRET = 'process-test-jwt-secret-0123456789abcdef'
const ISSUER = 'https://idp.example/'
const AUDIENCE = 'road-warrior'

let base: Record<string, string>
beforeAll(async () => {
  const env = stackEnv()
  const prefix = uniq('api-process')
  const topics = { commands: `${prefix}-cmd`, notifications: `${prefix}-notif` }
  await ensureTopics(brokers(), [
    { name: topics.commands, partitions: 2, replicationFactor: 1, configs: {} },
    { name: topics.notifications, partitions: 2, replicationFactor: 1, configs: {} }
  ], testLogger)
  const table = uniq('api-process-table')
  const db = createDynamoClient({ DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT!, AWS_REGION: 'local' })
  try { await ensureTable(db, table, testLogger) } finally { db.destroy() }
  base = {
    PATH: process.env.PATH ?? '',
    KAFKA_BROKERS: env.KAFKA_BROKERS!,
    DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT!,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    TOPIC_COMMANDS: topics.commands,
    TOPIC_NOTIFICATIONS: topics.notifications,
    COMMAND_PARTITIONS: '2',
    TABLE_NAME: table,
    JWT_SECRET,
    AGENCY_SECRETS: JSON.stringify({ acme: 'acme-agency-secret-0123456789' }),
    LOG_LEVEL: 'info'
  }
})

interface Api { proc: ReturnType<typeof Bun.spawn>, port: number, url: string, logs: () => string }
const started: Api[] = []
afterAll(() => { for (const a of started) if (a.proc.exitCode === null) a.proc.kill('SIGKILL') })

function spawnApi (env: Record<string, string>): Api {
  const port = Number(env.PORT ?? freePort())
  const proc = Bun.spawn([process.execPath, join(repo, 'api', 'main.ts')], { cwd: repo, env: { ...base, PORT: String(port), ...env }, stdout: 'pipe', stderr: 'pipe' })
  let text = ''
  const pump = async (s: ReadableStream<Uint8Array>) => { for await (const c of s) { text += new TextDecoder().decode(c); if (process.env.TEST_LOGS) process.stderr.write(c) } }
  void pump(proc.stdout as ReadableStream<Uint8Array>)
  void pump(proc.stderr as ReadableStream<Uint8Array>)
  const api = { proc, port, url: `http://127.0.0.1:${port}`, logs: () => text }
  started.push(api)
  return api
}

const lines = (api: Api) => api.logs().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)

async function status (url: string): Promise<number | 'refused'> {
  // A connection of its own each time: a kept-alive one would not show when the port stops accepting.
  try { return (await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) })).status } catch { return 'refused' }
}

function hsToken (sub: string): string {
  const now = Math.floor(Date.now() / 1000)
  return signJwt(JWT_SECRET, { sub, iat: now, exp: now + 3600 })
}

test.concurrent('a taken port stops the API at once with exit 69, naming PORT', async () => {
  const taken = Bun.listen({ hostname: '127.0.0.1', port: freePort(), socket: { data () {} } })
  try {
    const api = spawnApi({ PORT: String(taken.port) })
    const code = await Promise.race([api.proc.exited, Bun.sleep(30_000).then(() => 'still running')])
    expect(code).toBe(69)
    expect(lines(api).find(l => l.msg === 'listen_failed')).toMatchObject({ level: 'error', port: taken.port, variable: 'PORT', code: 'EADDRINUSE' })
  } finally {
    taken.stop(true)
  }
}, 40_000)

describe('with an identity provider', () => {
  let privateKey: CryptoKey
  let jwk: Record<string, unknown>
  beforeAll(async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair
    privateKey = pair.privateKey
    jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'idp-1', use: 'sig', alg: 'ES256' }
  })
  async function idpToken (sub: string): Promise<string> {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const input = `${b64({ alg: 'ES256', kid: 'idp-1', typ: 'JWT' })}.${b64({ sub, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 })}`
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(input))
    return `${input}.${Buffer.from(sig).toString('base64url')}`
  }

  test.concurrent('not ready while the key set cannot be loaded (its tokens 503 keys_unavailable), ready once the provider answers', async () => {
    const jwksPort = freePort() // nothing listens there yet: the provider is down
    const refreshMs = 10_000 // the smallest JWT_JWKS_REFRESH_MS allowed
    const api = spawnApi({ JWT_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks`, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_REFRESH_MS: String(refreshMs) })
    let provider: ReturnType<typeof Bun.serve> | undefined
    try {
      await waitFor('the API to listen', async () => (await status(`${api.url}/healthz`)) === 200, 30_000, 100)
      const readyz = await fetch(`${api.url}/readyz`)
      expect(readyz.status).toBe(503)
      expect((await readyz.json() as { checks: Record<string, unknown> }).checks.jwks).toBe(false)
      // The load balancer's check too: the key set is not one of the checks it leaves out.
      expect(await status(`${api.url}/readyz?exclude=kafka,dynamodb,notifications`)).toBe(503)
      const refused = await fetch(`${api.url}/v1/trips`, { method: 'POST', headers: { authorization: `Bearer ${await idpToken('alice')}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Lisbon' }) })
      expect({ status: refused.status, code: (await refused.json() as { error: { code: string } }).error.code }).toEqual({ status: 503, code: 'keys_unavailable' })

      provider = Bun.serve({ hostname: '127.0.0.1', port: jwksPort, fetch: () => Response.json({ keys: [jwk] }) })
      const up = performance.now()
      // The next periodic fetch loads it: within one refresh interval (plus a loaded machine's slack).
      await waitFor('the API to be ready', async () => (await status(`${api.url}/readyz`)) === 200, refreshMs + 5000, 100)
      expect(performance.now() - up).toBeLessThan(refreshMs + 5000)
      const ok = await fetch(`${api.url}/v1/trips`, { method: 'POST', headers: { authorization: `Bearer ${await idpToken('alice')}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Lisbon' }) })
      expect(ok.status).toBe(202)
    } catch (err) {
      process.stderr.write(`--- api ---\n${api.logs()}\n`)
      throw err
    } finally {
      api.proc.kill('SIGTERM')
      await Promise.race([api.proc.exited, Bun.sleep(10_000)])
      provider?.stop(true)
    }
  }, 60_000)
})

type Outcome = { kind: 'answered', status: number, startedAt: number, endedAt: number } | { kind: 'refused', startedAt: number } | { kind: 'broken', error: string, startedAt: number, endedAt: number }

/**
 * POST /v1/trips over a fresh connection, its body sent in `pieces` pieces `gapMs` apart (a slow
 * client keeps the request in flight). Refused: the connection was refused (never accepted).
 * Broken: accepted, then closed or reset without a whole answer.
 */
function slowCreate (port: number, userId: string, pieces: number, gapMs: number): Promise<Outcome> {
  const body = Buffer.from(JSON.stringify({ name: `Trip of ${userId} ${'.'.repeat(40)}` }))
  const head = `POST /v1/trips HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${hsToken(userId)}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`
  const size = Math.ceil(body.length / pieces)
  const startedAt = performance.now()
  return new Promise<Outcome>(resolve => {
    const chunks: Buffer[] = []
    let connected = false
    let settled = false
    // An answer that never comes is a failure too, not a hung test.
    const timer = setTimeout(() => finish('no answer within 10 s'), 10_000)
    const finish = (error?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const endedAt = performance.now()
      const text = Buffer.concat(chunks).toString('utf8')
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text)
      const sep = text.indexOf('\r\n\r\n')
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text.slice(0, sep + 2))
      const whole = m !== null && sep >= 0 && length !== null && Buffer.byteLength(text.slice(sep + 4)) === Number(length[1])
      if (whole) resolve({ kind: 'answered', status: Number(m[1]), startedAt, endedAt })
      else resolve({ kind: 'broken', error: error ?? `closed after ${JSON.stringify(text.slice(0, 80))}`, startedAt, endedAt })
    }
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        async open (socket) {
          connected = true
          socket.write(head)
          for (let i = 0; i < pieces; i++) {
            if (settled) return
            socket.write(body.subarray(i * size, (i + 1) * size))
            if (i < pieces - 1) await Bun.sleep(gapMs)
          }
        },
        data (_socket, data) { chunks.push(Buffer.from(data)) },
        close () { finish() },
        error (_socket, err) { finish(String(err)) }
      }
    }).catch(err => {
      if (!connected && /ECONNREFUSED|refused/i.test(String((err as { code?: string }).code ?? err))) { settled = true; clearTimeout(timer); resolve({ kind: 'refused', startedAt }) } else finish(String(err))
    })
  })
}

test.concurrent('SIGTERM drains: readiness false at once, requests in flight and those sent during DRAIN_DELAY_MS answered, then refused at connect, exit 0', async () => {
  const drainMs = 1000
  const api = spawnApi({ DRAIN_DELAY_MS: String(drainMs), SHUTDOWN_GRACE_MS: '10000' })
  let stopPolling = false
  let stopNewAt = Infinity
  try {
    await waitFor('the API ready', async () => (await status(`${api.url}/readyz`)) === 200, 60_000, 100)
    const readiness: Array<{ at: number, status: number | 'refused' }> = []
    const poll = (async () => {
      while (!stopPolling) {
        readiness.push({ at: performance.now(), status: await status(`${api.url}/readyz`) })
        await Bun.sleep(25)
      }
    })()
    // A load balancer: it stops sending new requests once it has seen readiness false, half the drain
    // delay later at most (its check interval × fall, which DRAIN_DELAY_MS is set to cover).
    const outcomes: Outcome[] = []
    const workers = Array.from({ length: 4 }, async (_, w) => {
      for (let n = 0; performance.now() < stopNewAt; n++) {
        outcomes.push(await slowCreate(api.port, `drain-user-${w}`, 5, 200))
        await Bun.sleep(w * 40)
      }
    })
    await Bun.sleep(1500)
    const termAt = performance.now()
    api.proc.kill('SIGTERM')
    await waitFor('readiness to turn false', () => readiness.some(r => r.at > termAt && r.status === 503), 2000, 10)
    const notReadyAt = readiness.find(r => r.at > termAt && r.status === 503)!.at
    stopNewAt = notReadyAt + drainMs / 2
    // Requests sent during the drain delay whose bodies take longer than it to arrive: still in
    // flight when the port stops accepting, they must be answered all the same.
    const slow = Array.from({ length: 3 }, (_, i) => slowCreate(api.port, `slow-user-${i}`, 8, 200))
    const code = await Promise.race([api.proc.exited, Bun.sleep(15_000).then(() => 'still running')])
    await Promise.all(workers)
    const slowOutcomes = await Promise.all(slow)
    stopPolling = true
    await poll
    const closedAt = readiness.find(r => r.at > termAt && r.status === 'refused')?.at ?? Infinity

    expect(code).toBe(0)
    // After the process is gone a new request is refused at connect, never half-answered.
    expect((await slowCreate(api.port, 'late-user', 1, 0)).kind).toBe('refused')
    expect(notReadyAt - termAt).toBeLessThan(500)
    // Readiness reported draining (503), not an answer-less port, for the drain delay.
    expect(closedAt - notReadyAt).toBeGreaterThanOrEqual(drainMs * 0.9)
    const timeline = [...outcomes, ...slowOutcomes].map(o => `${o.kind} ${'status' in o ? o.status : ''} ${Math.round(o.startedAt - termAt)}..${'endedAt' in o ? Math.round(o.endedAt - termAt) : ''}`)
    timeline.push(`not ready at ${Math.round(notReadyAt - termAt)}, closed at ${Math.round(closedAt - termAt)} (ms after SIGTERM)`)
    if (process.env.TEST_LOGS) process.stderr.write(timeline.join('\n') + '\n')
    expect(slowOutcomes.map(o => o.kind === 'answered' ? o.status : o)).toEqual([202, 202, 202])
    expect(slowOutcomes.every(o => o.kind === 'answered' && o.endedAt > closedAt)).toBe(true)
    const broken = outcomes.filter(o => o.kind === 'broken')
    expect(broken).toEqual([])
    const refused = outcomes.filter(o => o.kind === 'refused')
    expect(refused).toEqual([])
    const answered = outcomes.filter(o => o.kind === 'answered') as Array<Extract<Outcome, { kind: 'answered' }>>
    expect(answered.map(o => o.status).filter(s => s !== 202)).toEqual([])
    // The load was steady across the drain: requests sent after readiness turned false were served.
    expect(answered.filter(o => o.startedAt > notReadyAt).length).toBeGreaterThan(0)
  } catch (err) {
    process.stderr.write(`--- api ---\n${api.logs()}\n`)
    throw err
  } finally {
    stopNewAt = -Infinity
    stopPolling = true
    if (api.proc.exitCode === null) api.proc.kill('SIGKILL')
  }
}, 60_000)
