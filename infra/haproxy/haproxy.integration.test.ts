import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, stackEnv, waitFor } from '../../test/support/stack.ts'
import { testLogger } from '../../test/support/logger.ts'
import { roleService } from '../stack/stack.ts'
import { Supervisor } from '../stack/supervisor.ts'
import { haproxyService } from './service.ts'

const env = stackEnv()
const dir = mkdtempSync(join(tmpdir(), 'haproxy-test-'))
const sup = new Supervisor(join(dir, 'logs'), testLogger)
afterAll(async () => { await sup.stopAll(); rmSync(dir, { recursive: true, force: true }) })

interface ServerStats { requests: number, status: string }

async function stats (statsPort: number): Promise<Map<string, ServerStats>> {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/;csv`)).text()
  const [header, ...rows] = csv.trim().split('\n')
  const cols = header!.replace(/^# /, '').split(',')
  const out = new Map<string, ServerStats>()
  for (const row of rows) {
    const v = row.split(',')
    const rec = Object.fromEntries(cols.map((c, i) => [c, v[i]]))
    if (rec.pxname === 'api_processes' && rec.svname?.startsWith('api-')) out.set(rec.svname, { requests: Number(rec.stot), status: rec.status! })
  }
  return out
}

async function hammer (url: string, n: number): Promise<number[]> {
  const codes: number[] = []
  for (let i = 0; i < n; i += 10) {
    codes.push(...await Promise.all(Array.from({ length: 10 }, async () => {
      const res = await fetch(url)
      await res.arrayBuffer()
      return res.status
    })))
  }
  return codes
}

describe('HAProxy in front of two API processes', () => {
  test('balances across both, and stops sending to one that is down', async () => {
    const apiPorts = [freePort(), freePort()]
    const roleEnv = { ...env, SHUTDOWN_GRACE_MS: '5000', DRAIN_DELAY_MS: '0' }
    await Promise.all(apiPorts.map((port, i) => sup.start({ ...roleService({ name: `api-${i + 1}`, script: 'api/main.ts', port, env: roleEnv }), restart: false })))
    const port = freePort()
    const statsPort = freePort()
    await sup.start(haproxyService({ port, statsPort, backends: apiPorts, healthPath: '/readyz' }, dir, 'haproxy-test'))
    await waitFor('both servers UP', async () => [...(await stats(statsPort)).values()].filter(s => s.status === 'UP').length === 2)

    const url = `http://127.0.0.1:${port}/healthz`
    expect((await hammer(url, 200)).every(c => c === 200)).toBe(true)
    const first = await stats(statsPort)
    // leastconn with short requests still spreads them: each process took a real share.
    expect(first.get('api-1')!.requests).toBeGreaterThan(20)
    expect(first.get('api-2')!.requests).toBeGreaterThan(20)

    // A process that dies hard: requests keep succeeding (redispatch), and the health check marks it DOWN.
    await sup.stop('api-1')
    expect((await hammer(url, 100)).every(c => c === 200)).toBe(true)
    await waitFor('api-1 DOWN', async () => (await stats(statsPort)).get('api-1')!.status.startsWith('DOWN'), 10_000)
    const down = await stats(statsPort)
    expect((await hammer(url, 100)).every(c => c === 200)).toBe(true)
    const after = await stats(statsPort)
    expect(after.get('api-1')!.requests).toBe(down.get('api-1')!.requests)
    expect(after.get('api-2')!.requests).toBeGreaterThanOrEqual(down.get('api-2')!.requests + 100)
  }, 90_000)
})
