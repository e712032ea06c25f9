import type { RequestSpec } from 'autocannon'
import type { BenchContext } from '../lib/context.ts'
import { runLoad } from '../lib/load.ts'
import { errorRate, fmtMs, fmtNum, stepBreaks, sustainable, type RampStep } from '../lib/stats.ts'
import type { LoadRun } from '../lib/types.ts'

/**
 * A closed-model ramp: the same requests at increasing connection counts, each step `durationS`
 * long, stopping after the first step whose p99 passes the budget or that has errors.
 */
export async function ramp (ctx: BenchContext, name: string, url: string, steps: number[], durationS: number, requests: () => RequestSpec[]): Promise<{ runs: LoadRun[], best?: RampStep, broke?: RampStep }> {
  const runs: LoadRun[] = []
  const rampSteps: RampStep[] = []
  let broke: RampStep | undefined
  for (const [k, connections] of steps.entries()) {
    const run = await runLoad({ label: `${name} ×${connections}`, url, connections, durationS, requests: requests() })
    runs.push(run)
    const step: RampStep = { connections, rps: run.rps, p99: run.latency.p99, errorRate: errorRate(run) }
    rampSteps.push(step)
    ctx.progress(`${name}: step ${k + 1}/${steps.length}, ${connections} connections: ${fmtNum(run.rps)} req/s, p50 ${fmtMs(run.latency.p50)}, p99 ${fmtMs(run.latency.p99)}, ${(step.errorRate * 100).toFixed(2)} % errors`)
    if (stepBreaks(step, ctx.budgetMs)) { broke = step; break }
  }
  return { runs, best: sustainable(rampSteps, ctx.budgetMs), broke }
}
