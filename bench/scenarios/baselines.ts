import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { haproxyConfig } from '../../infra/haproxy/config.ts'
import { haproxyBinary } from '../../infra/haproxy/service.ts'
import { secs, type BenchContext } from '../lib/context.ts'
import { runLoad } from '../lib/load.ts'
import { freePort, waitHttp } from '../lib/processes.ts'
import { fmtMs, fmtNum, ratio } from '../lib/stats.ts'
import type { LoadRun, Scenario } from '../lib/types.ts'
import { writeRequests } from './requests.ts'

const server = join(import.meta.dir, '..', 'baseline', 'server.ts')

/**
 * Scenario 5, baselines: the same POST, same generator, same connections as the write scenario's
 * best step, against (a) a bare Bun.serve answering 202, (b) a bare Elysia route with the same JWT
 * check and TypeBox body validation and no Kafka, (c) HAProxy (the stack's own config) in front of
 * two such bare Elysia processes. The API's write rate is then stated as ratios to these.
 */
export async function baselines (ctx: BenchContext, apiWriteRuns: LoadRun[]): Promise<Scenario> {
  const connections = ctx.found.writeMax?.connections ?? 32
  const durationS = secs(ctx, 5, 10)
  const runs: LoadRun[] = []
  const start = async (name: string, mode: 'bun' | 'elysia') => {
    const port = freePort()
    const p = ctx.procs.spawn(name, [process.execPath, server, mode, String(port), ctx.jwtSecret])
    await waitHttp(`http://127.0.0.1:${port}/readyz`, 15_000, p)
    return port
  }
  const measure = async (label: string, url: string) => {
    ctx.progress(`baselines: ${label}, ${connections} connections, ${durationS} s`)
    const run = await runLoad({ label, url, connections, durationS, requests: writeRequests(ctx, 3) })
    ctx.progress(`baselines: ${label}: ${fmtNum(run.rps)} req/s, p99 ${fmtMs(run.latency.p99)}`)
    runs.push(run)
    return run
  }
  try {
    const bunPort = await start('baseline-bun', 'bun')
    const bare = await measure('bare Bun.serve 202', `http://127.0.0.1:${bunPort}`)
    await ctx.procs.stop('baseline-bun')

    const e1 = await start('baseline-elysia-1', 'elysia')
    const elysia = await measure('bare Elysia + TypeBox', `http://127.0.0.1:${e1}`)
    const e2 = await start('baseline-elysia-2', 'elysia')
    const port = freePort()
    const statsPort = freePort()
    const cfg = join(ctx.runDir, 'baseline-haproxy.cfg')
    writeFileSync(cfg, haproxyConfig({ port, statsPort, backends: [e1, e2], healthPath: '/readyz' }))
    const hp = ctx.procs.spawn('baseline-haproxy', [haproxyBinary(), '-db', '-f', cfg])
    await waitHttp(`http://127.0.0.1:${port}/readyz`, 15_000, hp)
    await Bun.sleep(1200) // both servers marked up (rise 2 × inter 500 ms)
    const proxied = await measure('HAProxy → 2 bare Elysia', `http://127.0.0.1:${port}`)

    const api = apiWriteRuns.find(r => r.connections === connections)
    const apiRps = api?.rps ?? NaN
    const u = (label: string, value: number) => ({ label, value, unit: 'req/s' })
    const ratios = [
      ratio('API write via HAProxy ÷ HAProxy over 2 bare Elysia', u(`API POST /v1/reservations ×${connections}`, apiRps), u('HAProxy → 2 bare Elysia', proxied.rps)),
      ratio('API write via HAProxy ÷ bare Bun.serve', u(`API POST /v1/reservations ×${connections}`, apiRps), u('bare Bun.serve 202', bare.rps)),
      ratio('bare Elysia + TypeBox ÷ bare Bun.serve', u('bare Elysia + TypeBox', elysia.rps), u('bare Bun.serve 202', bare.rps)),
      ratio('HAProxy over 2 bare Elysia ÷ 1 bare Elysia', u('HAProxy → 2 bare Elysia', proxied.rps), u('bare Elysia + TypeBox', elysia.rps))
    ]
    return {
      id: 'baselines', title: '5. Baselines: bare Bun.serve, bare Elysia, HAProxy over two bare processes', status: 'info',
      note: `at ${connections} connections: Bun.serve ${fmtNum(bare.rps)}, Elysia ${fmtNum(elysia.rps)}, HAProxy→2 Elysia ${fmtNum(proxied.rps)}, API ${fmtNum(apiRps)} req/s`,
      runs, metrics: { 'bare Bun.serve req/s': bare.rps, 'bare Elysia req/s': elysia.rps, 'HAProxy over 2 Elysia req/s': proxied.rps, 'API write req/s (same connections)': apiRps }, ratios, seconds: 0
    }
  } finally {
    await Promise.all(['baseline-bun', 'baseline-elysia-1', 'baseline-elysia-2', 'baseline-haproxy'].map(n => ctx.procs.stop(n)))
  }
}
