/**
 * The shape of a benchmark report (`bench/results/<timestamp>/results.json`). Summary, HTML page and
 * CAPACITY.md are all rendered from this one object, so a report can be re-rendered later.
 */

/** Latency figures in milliseconds. */
export interface Latency { p50: number, p90: number, p99: number, p999: number, max: number, mean: number }

/** CPU the load generator (this process) used during a run. */
export interface GeneratorCpu {
  /** Generator CPU seconds / (wall seconds × cores): its share of the whole machine. */
  shareOfMachine: number
  /** Fraction of all cores busy during the run (every process, from /proc/stat). */
  machineBusy: number
  /** Generator CPU / all busy CPU: how much of the work done was the generator's own. */
  shareOfBusy: number
}

/** One autocannon run. */
export interface LoadRun {
  label: string
  /** closed: fixed connections, each waits for its answer; open: a fixed arrival rate (autocannon overallRate). */
  model: 'closed' | 'open'
  url: string
  connections: number
  /** Target arrival rate (open model), req/s. */
  rate?: number
  durationS: number
  requests: number
  /** Completed requests per second, averaged over the run. */
  rps: number
  latency: Latency
  errors: number
  timeouts: number
  non2xx: number
  statusCodes: Record<string, number>
  /** Completed requests in each second of the run. */
  timeline: number[]
  cpu?: GeneratorCpu
}

export type Status = 'pass' | 'fail' | 'error' | 'info'

export interface Ratio {
  name: string
  value: number | null
  numerator: { label: string, value: number, unit: string }
  denominator: { label: string, value: number, unit: string }
}

/** A delay distribution (ms) with its raw samples, e.g. 202 → readable. */
export interface Delays { label: string, samples: number[], missing: number, summary: Latency & { count: number } }

export interface Scenario {
  id: string
  title: string
  status: Status
  /** Why the status: the budget checked, or what kept the scenario from running. */
  note: string
  runs: LoadRun[]
  /** Headline figures, by name (req/s, items/s, ms). */
  metrics: Record<string, number>
  ratios: Ratio[]
  delays?: Delays[]
  seconds: number
}

export interface Report {
  version: 1
  startedAt: string
  finishedAt: string
  quick: boolean
  machine: { cores: number, loadAverage: number[], bun: string, platform: string }
  stack: { reused: boolean, apiUrl: string, apiProcesses: number, updaters: number, commandPartitions: number, seededUsers: number }
  scenarios: Scenario[]
  budgetMs: number
  verdict: { ok: boolean, failures: string[] }
}
