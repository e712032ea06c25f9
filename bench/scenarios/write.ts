import { secs, type BenchContext } from '../lib/context.ts'
import { fmtMs, fmtNum } from '../lib/stats.ts'
import type { Scenario } from '../lib/types.ts'
import { ramp } from './ramp.ts'
import { writeRequests } from './requests.ts'

/**
 * Scenario 1, write: POST /v1/reservations for many users (valid tokens, realistic bodies) through
 * HAProxy, closed model at increasing connections until p99 passes the budget or errors appear.
 * The best step within budget is the sustainable write rate the later scenarios scale from.
 */
export async function writeScenario (ctx: BenchContext): Promise<Scenario> {
  const steps = ctx.quick ? [8, 32, 128, 384] : [2, 8, 32, 64, 128, 256, 512]
  const { runs, best, broke } = await ramp(ctx, 'write', ctx.apiUrl, steps, secs(ctx, 5, 10), () => writeRequests(ctx))
  const stop = broke ? `stopped at ${broke.connections} connections (p99 ${fmtMs(broke.p99)}, ${(broke.errorRate * 100).toFixed(2)} % errors)` : `no step broke the budget up to ${steps.at(-1)} connections`
  if (!best) {
    return { id: 'write', title: '1. Write: POST /v1/reservations, closed-model ramp', status: 'fail', note: `no step within budget; ${stop}`, runs, metrics: {}, ratios: [], seconds: 0 }
  }
  ctx.found.writeMax = { rps: best.rps, connections: best.connections }
  return {
    id: 'write', title: '1. Write: POST /v1/reservations, closed-model ramp', status: 'pass',
    note: `sustainable ${fmtNum(best.rps)} req/s at ${best.connections} connections (p99 ${fmtMs(best.p99)}); ${stop}`,
    runs, metrics: { 'write req/s (sustainable)': best.rps, 'connections at max': best.connections, 'p99 ms at max': best.p99 }, ratios: [], seconds: 0
  }
}
