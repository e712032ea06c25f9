import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signJwt } from '../../api/auth/jwt.ts'
import { freePort, stackEnv, waitFor } from '../../test/support/stack.ts'
import { testLogger } from '../../test/support/logger.ts'
import { roleService } from '../stack/stack.ts'
import { Supervisor } from '../stack/supervisor.ts'
import { API_POOL_CHECK } from './config.ts'
import { haproxyService } from './service.ts'

/**
 * Black-box attacks on the API's front door, through HAProxy in front of one API process (issue 13,
 * "the API can be exhausted without logging in"). Attackers connect from 127.0.0.2+ (all of
 * 127/8 is loopback), the probe from 127.0.0.1, so per-address limits can be told apart.
 */
const env = stackEnv()
const dir = mkdtempSync(join(tmpdir(), 'admission-test-'))
const sup = new Supervisor(join(dir, 'logs'), testLogger)
const apiPort = freePort()
const port = freePort()
const statsPort = freePort()
const SECRET = env.JWT_SECRET!
const token = (sub: string) => signJwt(SECRET, { sub, exp: Math.floor(Date.now() / 1000) + 600 })
const open: Socket[] = []

beforeAll(async () => {
  // One process: its HAProxy request slots (512) are what a flood must not exhaust.
  await sup.start({
    ...roleService({
      name: 'api-admission', script: 'api/main.ts', port: apiPort,
      env: { ...env, SHUTDOWN_GRACE_MS: '5000', DRAIN_DELAY_MS: '0', RATE_USER_PER_S: '0.1', RATE_USER_BURST: '3', RATE_WRITE_COST: '1' }
    }),
    restart: false
  })
  // Per-address limits high here: these tests are about slots and bodies; the last test has its own HAProxy.
  await sup.start(haproxyService({ port, statsPort, backends: [apiPort], healthPath: API_POOL_CHECK, limits: { connPerIp: 5000, connRatePerIp: 100_000 } }, dir, 'haproxy-admission'))
  await waitFor('the API behind HAProxy', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 15_000, 200)
}, 90_000)

afterAll(async () => {
  for (const s of open) s.destroy()
  await sup.stopAll()
  rmSync(dir, { recursive: true, force: true })
})

/**
 * A raw connection from `from` that writes `head` and keeps the socket; `text()` is what came back.
 * A connection refused or reset at once resolves too, already closed.
 */
function rawConnection (p: number, from: string, head: string): Promise<{ socket: Socket, text: () => string, closed: () => boolean }> {
  return new Promise(resolve => {
    let text = ''
    let closed = false
    const socket = connect({ host: '127.0.0.1', port: p, localAddress: from })
    open.push(socket)
    socket.on('data', d => { text += d.toString() })
    const conn = { socket, text: () => text, closed: () => closed }
    socket.on('close', () => { closed = true; resolve(conn) })
    socket.on('error', () => {})
    socket.once('connect', () => { if (head) socket.write(head); resolve(conn) })
  })
}

/** /healthz through HAProxy from 127.0.0.1: status and milliseconds, each answered within `limitMs` or it fails. */
async function probe (limitMs = 1000): Promise<Array<{ status: number, ms: number }>> {
  const out: Array<{ status: number, ms: number }> = []
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    const status = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(limitMs * 3) }).then(r => r.status, () => 0)
    out.push({ status, ms: Math.round(performance.now() - t0) })
    await Bun.sleep(100)
  }
  return out
}

describe('the API\'s front door under attack', () => {
  test('slowloris: 600 connections sending an agency update body a byte a second; /healthz still answers at once, the slow ones get 408', async () => {
    const head = 'POST /v1/agencies/demo/updates HTTP/1.1\r\nHost: api.local\r\nContent-Type: application/json\r\nX-Signature: t=1,v1=00\r\nContent-Length: 200\r\n\r\n'
    const conns = await Promise.all(Array.from({ length: 600 }, () => rawConnection(port, '127.0.0.2', head)))
    const drip = setInterval(() => { for (const c of conns) if (!c.closed()) c.socket.write('{') }, 1000)
    try {
      await Bun.sleep(1500) // every request's headers are in; on the old config each held an API slot
      const probes = await probe()
      expect(probes.filter(p => !(p.status === 200 && p.ms < 500))).toEqual([])
      // HAProxy's timeout http-request (5 s) covers the body: the slow ones are answered 408 by then.
      await waitFor('the slow bodies cut', () => conns.filter(c => c.text().includes(' 408 ')).length >= 590, 10_000, 250)
    } finally {
      clearInterval(drip)
      for (const c of conns) c.socket.destroy()
    }
  }, 30_000)

  test('stream flood: 600 live streams of 600 users; /healthz still answers at once (streams have their own slots)', async () => {
    const conns = await Promise.all(Array.from({ length: 600 }, (_, i) =>
      rawConnection(port, '127.0.0.3', `GET /v1/notifications/stream HTTP/1.1\r\nHost: api.local\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token(`flood-${i}`)}\r\n\r\n`)))
    try {
      await waitFor('most streams open', () => conns.filter(c => c.text().includes(': connected')).length >= 512, 15_000, 250)
      const probes = await probe()
      expect(probes.filter(p => !(p.status === 200 && p.ms < 500))).toEqual([])
      await waitFor('every stream open', () => conns.every(c => c.text().includes(': connected')), 10_000, 250)
    } finally {
      for (const c of conns) c.socket.destroy()
    }
  }, 40_000)

  test('/metrics is not served on the public frontend; Prometheus reaches the process itself', async () => {
    for (const path of ['/metrics', '/METRICS', '/%6Detrics', '/metrics/']) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`)
      expect({ path, status: r.status }).toEqual({ path, status: 404 })
      expect(await r.text()).not.toContain('api_http_requests_total')
    }
    const direct = await fetch(`http://127.0.0.1:${apiPort}/metrics`)
    expect(direct.status).toBe(200)
    expect(await direct.text()).toContain('api_http_requests_total')
  })

  test('past a user\'s bucket: 429 rate_limited with Retry-After; the API logs the client address HAProxy forwarded, not a forged one', async () => {
    const codes: Array<{ status: number, retryAfter: string | null, code?: string }> = []
    for (let i = 0; i < 5; i++) {
      const c = await rawConnection(port, '127.0.0.4', `POST /v1/notifications/stream-tickets HTTP/1.1\r\nHost: api.local\r\nAuthorization: Bearer ${token('xff-user')}\r\nX-Forwarded-For: 6.6.6.6\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
      await waitFor('an answer', () => c.closed(), 5000, 20)
      const text = c.text()
      codes.push({ status: Number(text.slice(9, 12)), retryAfter: /\r\nretry-after: (\d+)/i.exec(text)?.[1] ?? null, code: /"code":"([a-z_]+)"/.exec(text)?.[1] })
    }
    expect(codes.slice(0, 3).map(c => c.status)).toEqual([201, 201, 201])
    // 0.1 token a second: the next token is up to 10 s away.
    for (const c of codes.slice(3)) {
      expect({ status: c.status, code: c.code }).toEqual({ status: 429, code: 'rate_limited' })
      expect(Number(c.retryAfter)).toBeGreaterThanOrEqual(1)
      expect(Number(c.retryAfter)).toBeLessThanOrEqual(10)
    }
    await waitFor('the refusal logged', () => readFileSync(sup.logFile('api-admission'), 'utf8').includes('api_rate_limited'), 5000)
    const line = readFileSync(sup.logFile('api-admission'), 'utf8').split('\n').find(l => l.includes('"api_rate_limited"'))!
    expect(JSON.parse(line)).toMatchObject({ scope: 'user', key: 'xff-user', client: '127.0.0.4' })
  })

  test('per client address: past the connection cap HAProxy refuses the address\'s new connections, past the request rate it answers 429; other addresses are served', async () => {
    const p = freePort()
    await sup.start(haproxyService({ port: p, statsPort: freePort(), backends: [apiPort], healthPath: API_POOL_CHECK, limits: { connPerIp: 20, reqRatePerIp: 30 } }, dir, 'haproxy-per-ip'))
    await waitFor('the second HAProxy', async () => (await fetch(`http://127.0.0.1:${p}/healthz`)).status === 200, 10_000, 200)
    const conns = await Promise.all(Array.from({ length: 40 }, () => rawConnection(p, '127.0.0.5', '')))
    await Bun.sleep(500)
    const alive = conns.filter(c => !c.closed()).length
    expect(alive).toBeLessThanOrEqual(20)
    expect(alive).toBeGreaterThanOrEqual(15) // the first ones are kept: it is a cap, not a ban
    const r = await fetch(`http://127.0.0.1:${p}/healthz`)
    expect(r.status).toBe(200)
    for (const c of conns) c.socket.destroy()

    // 40 requests on one keep-alive connection from another address: the ones past 30 per 10 s get 429.
    const c = await rawConnection(p, '127.0.0.6', 'GET /healthz HTTP/1.1\r\nHost: api.local\r\n\r\n'.repeat(40))
    await waitFor('40 answers', () => (c.text().match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= 40 || c.closed(), 10_000, 50)
    const statuses = (c.text().match(/HTTP\/1\.1 (\d{3})/g) ?? []).map(l => Number(l.slice(9)))
    expect(statuses.slice(0, 30).every(st => st === 200)).toBe(true)
    expect(statuses.slice(30).length).toBeGreaterThan(0)
    expect(statuses.slice(30).every(st => st === 429)).toBe(true)
    expect(c.text()).toMatch(/retry-after: 10/i)
    expect(c.text()).toContain('"code":"rate_limited"')
    c.socket.destroy()
    expect((await fetch(`http://127.0.0.1:${p}/healthz`)).status).toBe(200)
    await sup.stop('haproxy-per-ip')
  }, 30_000)
})
