/** Test helpers (imported by *.test.ts only). */
import { summarize } from './stats.ts'
import type { LoadRun, Report } from './types.ts'

const run = (label: string, rps: number, p99: number): LoadRun => ({
  label, model: 'closed', url: 'http://x', connections: 8, durationS: 3, requests: rps * 3, rps,
  latency: { p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 1.5, max: p99 * 2, mean: p99 / 3 },
  errors: 0, timeouts: 0, non2xx: 0, statusCodes: { 202: rps * 3 }, timeline: [rps, rps, rps], cpu: { shareOfMachine: 0.3, machineBusy: 0.9, shareOfBusy: 0.33 }
})

/** A small report with every kind of scenario content, for rendering tests. */
export function sampleReport (): Report {
  const samples = [120, 150, 180, 220, 900]
  return {
    version: 1, startedAt: '2030-01-01T00:00:00.000Z', finishedAt: '2030-01-01T00:03:00.000Z', quick: true,
    machine: { cores: 2, loadAverage: [1, 1, 1], bun: '1.x', platform: 'linux-x64' },
    stack: { reused: true, apiUrl: 'http://127.0.0.1:8080', apiProcesses: 2, updaters: 2, commandPartitions: 12, seededUsers: 10000 },
    budgetMs: 800,
    scenarios: [
      { id: 'write', title: '1. Write <ramp>', status: 'pass', note: 'ok', runs: [run('write ×8', 800, 40), run('write ×32', 1200, 120)], metrics: { 'write req/s (sustainable)': 1200 }, ratios: [], seconds: 10 },
      { id: 'baselines', title: '5. Baselines', status: 'info', note: 'x', runs: [run('bare', 5000, 10)], metrics: {}, ratios: [{ name: 'API ÷ bare', value: 0.24, numerator: { label: 'API', value: 1200, unit: 'req/s' }, denominator: { label: 'bare', value: 5000, unit: 'req/s' } }], seconds: 5 },
      { id: 'freshness', title: '4. Freshness', status: 'fail', note: 'p99 over', runs: [], metrics: {}, ratios: [], delays: [{ label: '202 → readable', samples, missing: 1, summary: summarize(samples) }], seconds: 8 }
    ],
    verdict: { ok: false, failures: ['freshness: fail — p99 over'] }
  }
}
