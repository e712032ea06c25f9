/**
 * `bun bench/capacity.ts [results.json]`: writes bench/CAPACITY.md from a report (default: the
 * latest bench/results/<timestamp>/results.json). Every measured figure comes from the report; the
 * load assumptions are the named defaults below, printed in the document beside the result.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fmtNum } from './lib/stats.ts'
import type { Report } from './lib/types.ts'

/** Load assumptions (the brief's figures and the traffic shape), each with its default. */
export const assumptions = {
  weeklyActiveUsers: 2_000_000,
  accounts: 15_000_000,
  reservations: 150_000_000,
  /** Every reservation is refreshed from its agency this often (s). */
  refreshIntervalS: 300,
  /** Share of refreshes that find a change and become a command (an agency update). */
  refreshChangeShare: 0.01,
  /** Weekend peak: share of the weekly actives active on the busiest day. */
  peakDayActiveShare: 0.6,
  sessionsPerActiveDay: 3,
  dashboardReadsPerSession: 6,
  userWritesPerSession: 0.5,
  /** Share of a day's traffic in its busiest hour, and the burst within that hour. */
  peakHourShare: 0.15,
  burstFactor: 2,
  /** Share of commands that change a status or the times (a notification). */
  notifyingShare: 0.5,
  /** Run processes at this share of their measured sustainable rate. */
  targetUtilisation: 0.8,
  /** Partitions per updater, so updaters can double without repartitioning (keys never move). */
  partitionsPerUpdater: 2
} as const
export type Assumptions = typeof assumptions

export interface Measured { apiProcesses: number, writePerProcess?: number, readPerProcess?: number, updaterPerProcess?: number, updaterItemsPerProcess?: number, readCeiling?: number, readBottleneck?: string, mixedSustainable?: number, mixedEstimate?: number, source: string }

const num = (x: unknown): number | undefined => typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : undefined

/** The per-process figures the model needs, from a report (undefined where not measured). */
export function measuredFrom (rep: Report, source: string): Measured {
  const sc = (id: string) => rep.scenarios.find(s => s.id === id)
  const n = Math.max(1, rep.stack.apiProcesses)
  const write = num(sc('write')?.metrics['write req/s (sustainable)'])
  const read = num(sc('read')?.metrics['dashboard req/s (sustainable)'])
  const updater = num(sc('drain')?.metrics['1 updater commands/s'])
  const ceiling = num(sc('read-ceiling')?.metrics['Query/s (best)'])
  const mixed = sc('mixed-80-combined')?.metrics
  return {
    apiProcesses: n, source,
    writePerProcess: write && write / n, readPerProcess: read && read / n, updaterPerProcess: updater, readCeiling: ceiling,
    updaterItemsPerProcess: num(sc('drain')?.metrics['1 updater items/s']),
    mixedSustainable: num(mixed?.['sustainable mixed req/s']), mixedEstimate: num(mixed?.['formula estimate req/s']),
    readBottleneck: read && ceiling ? (read / ceiling >= 0.7 ? 'dynalite' : 'the API') : undefined
  }
}

export interface Plan {
  peakReads: number
  peakUserWrites: number
  agencyCommands: number
  commands: number
  notifications: number
  apiProcesses?: number
  updaters?: number
  partitions?: number
  notifiers?: number
  dynamoWriteItems: number
  firstBottleneck: string
}

export function plan (m: Measured, a: Assumptions = assumptions): Plan {
  const daily = a.weeklyActiveUsers * a.peakDayActiveShare * a.sessionsPerActiveDay
  const perSecAtPeak = (perDay: number) => (perDay * a.peakHourShare / 3600) * a.burstFactor
  const peakReads = perSecAtPeak(daily * a.dashboardReadsPerSession)
  const peakUserWrites = perSecAtPeak(daily * a.userWritesPerSession)
  const agencyCommands = (a.reservations / a.refreshIntervalS) * a.refreshChangeShare
  const commands = peakUserWrites + agencyCommands
  const notifications = commands * a.notifyingShare
  const u = a.targetUtilisation
  // An API process shares its time between reads and writes: the fractions of a process each needs add up.
  const apiProcesses = m.writePerProcess && m.readPerProcess
    ? Math.ceil(peakReads / (m.readPerProcess * u) + (peakUserWrites + agencyCommands) / (m.writePerProcess * u)) : undefined
  const updaters = m.updaterPerProcess ? Math.ceil(commands / (m.updaterPerProcess * u)) : undefined
  const partitions = updaters ? Math.max(12, Math.ceil((updaters * a.partitionsPerUpdater) / 12) * 12) : undefined
  // Not measured yet: a notifier does about an updater's work per event (a dedupe read, one write, a webhook).
  const notifiers = m.updaterPerProcess ? Math.ceil(notifications / (m.updaterPerProcess * u)) : undefined
  const groups: Array<[string, number | undefined]> = [['API processes', apiProcesses], ['updaters', updaters], ['notifiers', notifiers]]
  const known = groups.filter((g): g is [string, number] => g[1] !== undefined).sort((x, y) => y[1] - x[1])
  const firstBottleneck = known.length
    ? `${known[0]![0]} (${fmtNum(known[0]![1])} processes needed at peak: the group that saturates first as load grows)`
    : 'unknown: the report lacks the per-process figures'
  return { peakReads, peakUserWrites, agencyCommands, commands, notifications, apiProcesses, updaters, partitions, notifiers, dynamoWriteItems: commands * 2, firstBottleneck }
}

export function renderCapacity (m: Measured, p: Plan, a: Assumptions = assumptions): string {
  const n = (x: number | undefined, unit = '') => x === undefined ? 'not measured in this report' : `${fmtNum(x)}${unit}`
  return `# Capacity model (generated by \`bun bench/capacity.ts\` from ${m.source}; do not edit)

Measured per process on a 2-core machine shared by Kafka, dynalite, HAProxy, every role and the load
generator, so these are lower bounds; production figures must be re-measured on the target hardware
and on Amazon DynamoDB (dynalite is far slower).

| measured (from the report) | value |
| --- | ---: |
| API write rate per process (sustainable write ÷ ${m.apiProcesses} API processes) | ${n(m.writePerProcess, ' req/s')} |
| API dashboard reads per process (sustainable read ÷ ${m.apiProcesses}) | ${n(m.readPerProcess, ' req/s')} |
| local read bottleneck | ${m.readBottleneck ?? 'unknown'} (dynalite alone: ${n(m.readCeiling, ' Query/s')}) |
| one updater, commands applied | ${n(m.updaterPerProcess, ' commands/s')} |
| one updater, items written | ${n(m.updaterItemsPerProcess, ' items/s')} |
| 80/20 mix, sustainable (measured ramp, all ${m.apiProcesses} API processes; the additive estimate 1/(0.8/read + 0.2/write) beside it) | ${n(m.mixedSustainable, ' req/s')} (estimate ${n(m.mixedEstimate, ' req/s')}) |

| load at the weekend peak (assumptions below) | per second |
| --- | ---: |
| dashboard reads | ${fmtNum(p.peakReads)} |
| user writes | ${fmtNum(p.peakUserWrites)} |
| agency changes (${fmtNum(a.reservations)} reservations refreshed every ${a.refreshIntervalS / 60} min, ${a.refreshChangeShare * 100} % changed) | ${fmtNum(p.agencyCommands)} |
| commands in Kafka | ${fmtNum(p.commands)} |
| notifications | ${fmtNum(p.notifications)} |
| DynamoDB item writes (≈ 2 per command: the reservation and its trip) | ${fmtNum(p.dynamoWriteItems)} |

| group | needed at peak (at ${a.targetUtilisation * 100} % of the measured rate) |
| --- | ---: |
| API processes | ${n(p.apiProcesses)} |
| updaters | ${n(p.updaters)} |
| command partitions (${a.partitionsPerUpdater} per updater, a multiple of 12, never fewer than 12) | ${n(p.partitions)} |
| notifiers (not measured yet: assumed one updater's rate) | ${n(p.notifiers)} |

**First bottleneck:** ${p.firstBottleneck}. Locally the read path is bound by ${m.readBottleneck ?? 'an unmeasured component'}.
The agency refresh stream, not the users, sets the command rate: ${fmtNum(p.agencyCommands)} of ${fmtNum(p.commands)} commands/s.

Assumptions: ${Object.entries(a).map(([k, v]) => `${k} = ${v}`).join(', ')}. Accounts (${fmtNum(a.accounts)}) size the table, not the traffic.
`
}

/** Renders CAPACITY.md for a report and writes it; returns the file written. */
export function writeCapacity (rep: Report, file: string, source: string): string {
  const m = measuredFrom(rep, source)
  writeFileSync(file, renderCapacity(m, plan(m)))
  return file
}

if (import.meta.main) {
  const resultsDir = join(import.meta.dir, 'results')
  let file = process.argv[2]
  if (!file) {
    const runs = existsSync(resultsDir) ? readdirSync(resultsDir).filter(d => existsSync(join(resultsDir, d, 'results.json'))).sort() : []
    if (runs.length === 0) { process.stderr.write('no report in bench/results: run `bun run bench` first\n'); process.exit(1) }
    file = join(resultsDir, runs.at(-1)!, 'results.json')
  }
  const rep = JSON.parse(readFileSync(file, 'utf8')) as Report
  process.stdout.write(`wrote ${writeCapacity(rep, join(import.meta.dir, 'CAPACITY.md'), relative(import.meta.dir, file))}\n`)
}
