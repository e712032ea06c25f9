import { QueryCommand } from '@aws-sdk/lib-dynamodb'
import { GSI, tripGsiPk } from '../../shared/domain/keys.ts'
import { secs, type BenchContext } from '../lib/context.ts'
import { cpuMeter } from '../lib/load.ts'
import { seedTripId } from '../lib/seed.ts'
import { summarize } from '../lib/stats.ts'
import type { LoadRun, Scenario } from '../lib/types.ts'

/**
 * Scenario 7, read ceiling: the dashboard's own Query (byTrip, the trip and its reservations) as a
 * bare loop against dynalite, no API: what the local database itself can serve. `inFlight` loops.
 */
export async function readCeiling (ctx: BenchContext): Promise<Scenario> {
  const durationS = secs(ctx, 5, 15)
  const runs: LoadRun[] = []
  for (const inFlight of ctx.quick ? [32] : [16, 64]) {
    ctx.progress(`read ceiling: bare byTrip Query loop, ${inFlight} in flight, ${durationS} s`)
    const latencies: number[] = []
    const timeline: number[] = new Array(durationS).fill(0)
    let errors = 0
    let n = 0
    const stopCpu = cpuMeter()
    const t0 = performance.now()
    const end = t0 + durationS * 1000
    await Promise.all(Array.from({ length: inFlight }, async (_, w) => {
      let i = w * 104_729
      while (performance.now() < end) {
        i = (i + 7919) % ctx.seededUsers
        const s = performance.now()
        try {
          await ctx.db.send(new QueryCommand({
            TableName: ctx.table, IndexName: GSI.byTrip.name,
            KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk < :shares',
            ExpressionAttributeValues: { ':pk': tripGsiPk(seedTripId(i)), ':shares': '~' }
          }))
          const done = performance.now()
          latencies.push(done - s)
          const sec = Math.floor((done - t0) / 1000)
          if (sec < durationS) timeline[sec]!++
          n++
        } catch { errors++ }
      }
    }))
    const wall = (performance.now() - t0) / 1000
    const l = summarize(latencies)
    runs.push({
      label: `bare Query ×${inFlight}`, model: 'closed', url: 'dynalite', connections: inFlight, durationS, requests: n, rps: n / wall,
      latency: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max, mean: l.mean },
      errors, timeouts: 0, non2xx: 0, statusCodes: { 200: n }, timeline, cpu: stopCpu()
    })
  }
  const best = runs.reduce((a, b) => b.rps > a.rps ? b : a)
  ctx.found.readCeilingQps = best.rps
  return {
    id: 'read-ceiling', title: '7. Read ceiling: bare dashboard Query loop against dynalite', status: 'info',
    note: `dynalite serves ${Math.round(best.rps)} dashboard Query/s at best (${best.connections} in flight, p99 ${best.latency.p99.toFixed(1)} ms)`,
    runs, metrics: { 'Query/s (best)': best.rps }, ratios: [], seconds: 0
  }
}
