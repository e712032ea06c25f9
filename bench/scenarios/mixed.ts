import { secs, type BenchContext } from '../lib/context.ts'
import { runLoad } from '../lib/load.ts'
import { budgetVerdict, errorRate, fmtMs, fmtNum, ratio } from '../lib/stats.ts'
import type { LoadRun, Scenario } from '../lib/types.ts'
import { readRequests, writeRequests } from './requests.ts'

/** Connections for an open-model rate: enough that a slow answer does not hold back arrivals. */
export const openConnections = (rate: number) => Math.min(256, Math.max(8, Math.ceil(rate / 8)))

/**
 * The rate an 80/20 mix can sustain when reads and writes share the same processes and database:
 * each read takes 1/readMax of the capacity, each write 1/writeMax, so R = 1 / (0.8/readMax + 0.2/writeMax).
 */
export const combinedRate = (readMax: number, writeMax: number) => 1 / (0.8 / readMax + 0.2 / writeMax)

/**
 * Scenario 3, mixed: 80 % dashboard reads and 20 % writes at a constant arrival rate (open model:
 * autocannon overallRate, one instance per route, run together) of `fraction` of the write
 * scenario's sustainable rate. Verdict: every route's p99 within budget, errors ≤ 0.1 %, and the
 * target rate actually reached (≥ 90 %), else the budget is not kept at that load.
 */
export async function mixedScenario (ctx: BenchContext, fraction: number, basis: 'write' | 'combined' = 'write'): Promise<Scenario> {
  const pctLabel = Math.round(fraction * 100)
  const id = basis === 'write' ? `mixed-${pctLabel}` : `mixed-${pctLabel}-combined`
  const title = basis === 'write' ? `3. Mixed 80/20 at ${pctLabel} % of the write max (open model)` : `3b. Mixed 80/20 at ${pctLabel} % of the combined read+write sustainable rate (open model)`
  const max = ctx.found.writeMax
  if (!max) return { id, title, status: 'error', note: 'no sustainable write rate from scenario 1 to scale from', runs: [], metrics: {}, ratios: [], seconds: 0 }
  if (basis === 'combined' && !ctx.found.readMax) return { id, title, status: 'error', note: 'no sustainable read rate from scenario 2 to scale from', runs: [], metrics: {}, ratios: [], seconds: 0 }
  const total = (basis === 'write' ? max.rps : combinedRate(ctx.found.readMax!, max.rps)) * fraction
  const readRate = Math.max(1, Math.round(total * 0.8))
  const writeRate = Math.max(1, Math.round(total * 0.2))
  const durationS = secs(ctx, 8, 20)
  ctx.progress(`${id}: ${readRate} reads/s + ${writeRate} writes/s for ${durationS} s`)
  const [reads, writes] = await Promise.all([
    runLoad({ label: `GET /v1/trips/:id @${readRate}/s`, url: ctx.apiUrl, connections: openConnections(readRate), rate: readRate, durationS, requests: readRequests(ctx, 11) }),
    runLoad({ label: `POST /v1/reservations @${writeRate}/s`, url: ctx.apiUrl, connections: openConnections(writeRate), rate: writeRate, durationS, requests: writeRequests(ctx, 13) })
  ])
  const runs: LoadRun[] = [reads, writes]
  const verdict = budgetVerdict([
    { route: 'GET /v1/trips/:id', p99: reads.latency.p99, errorRate: errorRate(reads) },
    { route: 'POST /v1/reservations', p99: writes.latency.p99, errorRate: errorRate(writes) }
  ], ctx.budgetMs)
  const short = runs.filter(r => r.rps < 0.9 * (r.rate ?? 0))
  const shortNote = short.map(r => `${r.label} reached only ${fmtNum(r.rps)} req/s`).join('; ')
  const measured = verdict.status === 'pass' && short.length ? 'fail' : verdict.status
  const ceiling = ctx.found.readCeilingQps
  // Scaled from the write max alone, the read share can exceed what the local database serves even
  // as a bare Query loop (scenario 7): then the run measures dynalite, not the system, and is
  // reported without gating; 3b (the combined sustainable rate) carries the budget check.
  const beyondDb = basis === 'write' && ceiling !== undefined && readRate > ceiling
  const status = beyondDb && measured !== 'pass' ? 'info' : measured
  const dbNote = beyondDb ? `; not gated: the read target (${fmtNum(readRate)}/s) is ${(readRate / ceiling).toFixed(1)}× what dynalite alone serves (${fmtNum(ceiling)} Query/s), so the local database, not the API, is the limit (measured: ${measured})` : ''
  ctx.progress(`${id}: reads p99 ${fmtMs(reads.latency.p99)} (${fmtNum(reads.rps)}/s), writes p99 ${fmtMs(writes.latency.p99)} (${fmtNum(writes.rps)}/s): ${status}`)
  return {
    id, title, status, note: `${verdict.note}${shortNote ? `; target rate not reached: ${shortNote}` : ''}${dbNote}`,
    runs,
    metrics: { 'target req/s': total, 'achieved req/s': reads.rps + writes.rps, 'read p99 ms': reads.latency.p99, 'write p99 ms': writes.latency.p99 },
    ratios: [ratio(`${id}: achieved ÷ target arrival rate`, { label: 'achieved', value: reads.rps + writes.rps, unit: 'req/s' }, { label: 'target', value: total, unit: 'req/s' })],
    seconds: 0
  }
}
