import type { Latency, Ratio, Scenario, Status } from './types.ts'

/** p-th percentile (0..100) of ascending `sorted` values, nearest-rank; NaN when empty. */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  if (p <= 0) return sorted[0]!
  if (p >= 100) return sorted[sorted.length - 1]!
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** p50/p90/p99/p99.9/max/mean of raw samples (ms). */
export function summarize (samples: readonly number[]): Latency & { count: number } {
  const s = samples.filter(Number.isFinite).sort((a, b) => a - b)
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN
  return { count: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s.length ? s[s.length - 1]! : NaN, mean }
}

/** a / b, or null when either is missing or b is not positive. */
export function safeRatio (a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null
  return a / b
}

export function ratio (name: string, numerator: Ratio['numerator'], denominator: Ratio['denominator']): Ratio {
  return { name, value: safeRatio(numerator.value, denominator.value), numerator, denominator }
}

/** Error rate of a run: transport errors, timeouts and non-2xx answers over all attempts. */
export function errorRate (r: { requests: number, errors: number, timeouts: number, non2xx: number }): number {
  const bad = r.errors + r.timeouts + r.non2xx
  const total = r.requests + r.errors + r.timeouts
  return total > 0 ? bad / total : 0
}

export interface RampStep { connections: number, rps: number, p99: number, errorRate: number }

/** A ramp stops at the first step whose p99 passes the budget or that has errors. */
export function stepBreaks (step: RampStep, budgetMs: number, maxErrorRate = 0): boolean {
  return !(step.p99 <= budgetMs) || step.errorRate > maxErrorRate
}

/** The best throughput among steps that kept the budget (the sustainable rate), or undefined. */
export function sustainable (steps: readonly RampStep[], budgetMs: number, maxErrorRate = 0): RampStep | undefined {
  let best: RampStep | undefined
  for (const s of steps) if (!stepBreaks(s, budgetMs, maxErrorRate) && (!best || s.rps > best.rps)) best = s
  return best
}

export interface RouteCheck { route: string, p99: number, errorRate: number }

/**
 * The budget verdict of a set of routes: pass when every route's p99 is within the budget and its
 * error rate at most `maxErrorRate`; the note names each route that broke it.
 */
export function budgetVerdict (routes: readonly RouteCheck[], budgetMs: number, maxErrorRate = 0.001): { status: Status, note: string } {
  if (routes.length === 0) return { status: 'error', note: 'no route was measured' }
  const broken = routes.filter(r => !(r.p99 <= budgetMs) || r.errorRate > maxErrorRate)
  const parts = routes.map(r => `${r.route} p99 ${fmtMs(r.p99)}${r.errorRate > 0 ? `, ${(r.errorRate * 100).toFixed(2)} % errors` : ''}`)
  if (broken.length === 0) return { status: 'pass', note: `within ${budgetMs} ms: ${parts.join('; ')}` }
  return { status: 'fail', note: `over budget (${budgetMs} ms, ≤ ${(maxErrorRate * 100).toFixed(1)} % errors): ${broken.map(r => r.route).join(', ')} — ${parts.join('; ')}` }
}

/** The run's overall verdict: every scenario that failed or could not run. */
export function overallVerdict (scenarios: readonly Pick<Scenario, 'id' | 'status' | 'note'>[]): { ok: boolean, failures: string[] } {
  const failures = scenarios.filter(s => s.status === 'fail' || s.status === 'error').map(s => `${s.id}: ${s.status} — ${s.note}`)
  return { ok: failures.length === 0, failures }
}

export function fmtMs (ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`
}

export function fmtNum (x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a'
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/**
 * CPU shares from raw counters: generator CPU (µs), wall time (ms), cores, and /proc/stat deltas
 * (busy and total jiffies). Values are clamped to 0..1.
 */
export function cpuShares (generatorUs: number, wallMs: number, cores: number, busyJiffies: number, totalJiffies: number): { shareOfMachine: number, machineBusy: number, shareOfBusy: number } {
  const clamp = (x: number) => Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0
  const capacityS = (wallMs / 1000) * cores
  const generatorS = generatorUs / 1e6
  const machineBusy = totalJiffies > 0 ? busyJiffies / totalJiffies : NaN
  const busyS = machineBusy * capacityS
  return { shareOfMachine: clamp(generatorS / capacityS), machineBusy: clamp(machineBusy), shareOfBusy: clamp(busyS > 0 ? generatorS / busyS : NaN) }
}

/** Median of the finite values; NaN when there are none. */
export function median (xs: readonly number[]): number {
  const v = xs.filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
}
