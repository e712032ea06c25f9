import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import autocannon, { type RequestSpec } from 'autocannon'
import { cpuShares } from './stats.ts'
import type { GeneratorCpu, LoadRun } from './types.ts'

/** Busy and total jiffies of all cores from /proc/stat (zeros where there is no /proc). */
export function machineJiffies (): { busy: number, total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

/** Starts measuring this process's CPU against the machine's; the returned function stops and reports. */
export function cpuMeter (): () => GeneratorCpu {
  const c0 = process.cpuUsage()
  const m0 = machineJiffies()
  const t0 = performance.now()
  return () => {
    const c = process.cpuUsage(c0)
    const m = machineJiffies()
    return cpuShares(c.user + c.system, performance.now() - t0, availableParallelism(), m.busy - m0.busy, m.total - m0.total)
  }
}

export interface LoadSpec {
  label: string
  url: string
  connections: number
  durationS: number
  /** Open model: a constant arrival rate (req/s over all connections). Absent: closed model. */
  rate?: number
  /** One or more request templates; `setupRequest` varies each request (user, token, body). */
  requests: RequestSpec[]
  /** Per-request timeout in seconds (an unanswered request counts as a timeout). */
  timeoutS?: number
}

/** Runs one autocannon load and reduces its result to a LoadRun (with timeline and generator CPU). */
export async function runLoad (spec: LoadSpec, onTick?: (second: number, completed: number) => void): Promise<LoadRun> {
  const timeline: number[] = []
  const stopCpu = cpuMeter()
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    timeout: spec.timeoutS ?? 5,
    ...(spec.rate !== undefined && { overallRate: spec.rate }),
    requests: spec.requests
  })
  instance.on('tick', t => {
    if (timeline.length < spec.durationS) timeline.push(t.counter)
    onTick?.(timeline.length, t.counter)
  })
  const r = await instance
  const cpu = stopCpu()
  const statusCodes: Record<string, number> = {}
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0)
  const seconds = r.duration > 0 ? r.duration : spec.durationS
  return {
    label: spec.label,
    model: spec.rate !== undefined ? 'open' : 'closed',
    url: spec.url,
    connections: spec.connections,
    ...(spec.rate !== undefined && { rate: spec.rate }),
    durationS: spec.durationS,
    requests,
    rps: requests / seconds,
    latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p999: r.latency.p99_9, max: r.latency.max, mean: r.latency.mean },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes,
    timeline,
    cpu
  }
}
