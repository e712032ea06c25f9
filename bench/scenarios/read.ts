import { secs, type BenchContext } from '../lib/context.ts'
import { fmtMs, fmtNum, ratio } from '../lib/stats.ts'
import type { Scenario } from '../lib/types.ts'
import { ramp } from './ramp.ts'
import { readRequests } from './requests.ts'

/**
 * Scenario 2, read: a seeded user's dashboard (GET /v1/trips/:id, 10 reservations) through HAProxy,
 * closed model at increasing connections; stated against the bare Query loop (scenario 7), which
 * says whether dynalite or the API is the read bottleneck.
 */
export async function readScenario (ctx: BenchContext): Promise<Scenario> {
  const steps = ctx.quick ? [8, 32] : [4, 16, 64, 256]
  const { runs, best, broke } = await ramp(ctx, 'read', ctx.apiUrl, steps, secs(ctx, 5, 10), () => readRequests(ctx))
  const ceiling = ctx.found.readCeilingQps
  const r = ratio('API dashboard reads ÷ bare dynalite Query loop', { label: 'API GET /v1/trips/:id (best step within budget)', value: best?.rps ?? NaN, unit: 'req/s' },
    { label: 'bare byTrip Query loop', value: ceiling ?? NaN, unit: 'Query/s' })
  const bottleneck = r.value === null ? 'unknown' : r.value >= 0.7 ? 'dynalite (the API serves ≥ 70 % of what dynalite alone can)' : 'the API (well below what dynalite alone serves)'
  if (!best) {
    return { id: 'read', title: '2. Read: dashboard GET /v1/trips/:id', status: 'fail', note: `no step kept p99 ≤ ${ctx.budgetMs} ms without errors (first step: p99 ${fmtMs(broke?.p99 ?? NaN)}, ${((broke?.errorRate ?? 0) * 100).toFixed(1)} % errors)`, runs, metrics: {}, ratios: [r], seconds: 0 }
  }
  ctx.found.readMax = best.rps
  return {
    id: 'read', title: '2. Read: dashboard GET /v1/trips/:id', status: 'pass',
    note: `${fmtNum(best.rps)} req/s at ${best.connections} connections with p99 ${fmtMs(best.p99)} over ${fmtNum(ctx.seededUsers)} users; read bottleneck: ${bottleneck}`,
    runs, metrics: { 'dashboard req/s (sustainable)': best.rps, 'p99 ms at that step': best.p99, 'connections': best.connections }, ratios: [r], seconds: 0
  }
}
