/**
 * `bun run bench [--quick] [--only id,id] [--users N]`: the end-to-end benchmark of issue 10.
 * Starts the local stack unless one is running (STACK_DATA_DIR and the port variables of
 * `bun run stack`), seeds the read data set straight into DynamoDB, runs the scenarios, and writes
 * `bench/results/<timestamp>/` (results.json, summary.md, report.html) and bench/CAPACITY.md.
 * Progress goes to stderr, the summary to stdout. Exits 1 when a scenario breaks its budget or
 * could not run, 2 when the bench itself failed.
 * Scenario ids: read-ceiling, read, write, baselines, mixed-50, mixed-80, mixed-80-combined, freshness, drain.
 * (mixed-* need write, and mixed-80-combined read, in the same run: it ramps the 80/20 mix to measure
 * its sustainable rate, then gates at 80 % of it.)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { writeCapacity } from './capacity.ts'
import { settle, token, type BenchContext } from './lib/context.ts'
import { ProcessGroup } from './lib/processes.ts'
import { renderHtml, renderSummary } from './lib/report.ts'
import { seed, seedUserId } from './lib/seed.ts'
import { ensureStack } from './lib/stack.ts'
import { overallVerdict } from './lib/stats.ts'
import type { LoadRun, Report, Scenario } from './lib/types.ts'
import { baselines } from './scenarios/baselines.ts'
import { readCeiling } from './scenarios/ceiling.ts'
import { drainScenario } from './scenarios/drain.ts'
import { freshnessScenario } from './scenarios/freshness.ts'
import { mixedScenario } from './scenarios/mixed.ts'
import { readScenario } from './scenarios/read.ts'
import { writeScenario } from './scenarios/write.ts'

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, users: { type: 'string', default: '10000' } } })
const BUDGET_MS = 800
const started = performance.now()
const progress = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`)

async function main (): Promise<number> {
  const startedAt = new Date()
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
  const outDir = join(import.meta.dir, 'results', stamp)
  mkdirSync(outDir, { recursive: true })
  const users = Number(args.users)
  if (!Number.isInteger(users) || users < 100) throw new Error('--users needs an integer ≥ 100')
  const only = args.only ? new Set(args.only.split(',').map(s => s.trim())) : undefined
  const loadAverage = loadavg()

  const stack = await ensureStack(progress)
  const procs = new ProcessGroup(join(outDir, 'logs'))
  const db = createDynamoClient({ DYNAMODB_ENDPOINT: stack.env.DYNAMODB_ENDPOINT, AWS_REGION: stack.env.AWS_REGION ?? 'local' }, { maxSockets: 128 })
  let cleaned: Promise<void> | undefined
  const cleanup = () => (cleaned ??= (async () => { await procs.stopAll(); db.destroy(); await stack.stop() })())
  process.once('SIGINT', () => { progress('interrupted: stopping what the bench started'); void cleanup().finally(() => process.exit(130)) })
  process.once('SIGTERM', () => { void cleanup().finally(() => process.exit(143)) })
  process.once('exit', () => procs.killAllNow())

  try {
    const table = stack.env.TABLE_NAME ?? 'road-warrior'
    const s = await seed(db, table, users, (done, total) => progress(`seed: ${done}/${total} users (trip + 10 reservations each, straight to DynamoDB)`))
    progress(s.items ? `seed: ${s.items} items in ${s.seconds.toFixed(1)} s (${Math.round(s.items / s.seconds)} items/s)` : `seed: ${users} users already seeded`)
    const jwtSecret = stack.env.JWT_SECRET
    if (!jwtSecret) throw new Error('JWT_SECRET missing from the stack environment')
    const ctx: BenchContext = {
      quick: args.quick!, budgetMs: BUDGET_MS, stack, apiUrl: stack.env.API_URL!, db, table,
      partitions: Number(stack.env.COMMAND_PARTITIONS ?? 12), jwtSecret, seededUsers: users,
      tokens: Array.from({ length: users }, (_, i) => token(jwtSecret, seedUserId(i))),
      procs, runDir: outDir, runId: Date.now().toString(36), progress, found: {}
    }

    const probe = await settle(ctx, ctx.quick ? 8000 : 15_000)
    ctx.found.updaterApplies = probe.readable > 0
    progress(`probe: ${probe.readable}/${probe.total} probe writes readable after ${probe.seconds.toFixed(1)} s — ${ctx.found.updaterApplies ? 'the updater applies commands' : 'NO updater applies commands: freshness and drain will fail'}`)
    const catchUp = async (why: string) => {
      if (!ctx.found.updaterApplies) return
      const r = await settle(ctx, ctx.quick ? 30_000 : 120_000)
      progress(`settle after ${why}: updaters caught up on ${r.readable}/${r.total} partitions in ${r.seconds.toFixed(1)} s${r.refused ? ` (${r.refused} probe write(s) refused while the API recovered)` : ''}`)
    }

    const scenarios: Scenario[] = []
    let writeRuns: LoadRun[] = []
    const plan: Array<[string, () => Promise<Scenario>]> = [
      ['read-ceiling', () => readCeiling(ctx)],
      ['read', () => readScenario(ctx)],
      ['write', async () => { const w = await writeScenario(ctx); writeRuns = w.runs; await catchUp('the write ramp'); return w }],
      ['baselines', () => baselines(ctx, writeRuns)],
      ['mixed-50', async () => { const m = await mixedScenario(ctx, 0.5); await catchUp('mixed 50 %'); return m }],
      ['mixed-80', async () => { const m = await mixedScenario(ctx, 0.8); await catchUp('mixed 80 %'); return m }],
      ['mixed-80-combined', async () => { const m = await mixedScenario(ctx, 0.8, 'combined'); await catchUp('mixed 80 % combined'); return m }],
      ['freshness', () => freshnessScenario(ctx)],
      ['drain', () => drainScenario(ctx)]
    ]
    const selected = plan.filter(([id]) => !only || only.has(id) || (id === 'baselines' && only.has('write')))
    for (const [k, [id, run]] of selected.entries()) {
      progress(`── scenario ${k + 1}/${selected.length}: ${id}`)
      const t0 = performance.now()
      let sc: Scenario
      try {
        sc = await run()
      } catch (err) {
        const e = err as Error
        progress(`${id} failed: ${e.stack ?? e.message}`)
        sc = { id, title: id, status: 'error', note: `the scenario itself failed: ${e.message}`, runs: [], metrics: {}, ratios: [], seconds: 0 }
      }
      sc.seconds = (performance.now() - t0) / 1000
      scenarios.push(sc)
      progress(`${id}: ${sc.status.toUpperCase()} — ${sc.note} (${sc.seconds.toFixed(0)} s)`)
    }

    const report: Report = {
      version: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick: ctx.quick,
      machine: { cores: availableParallelism(), loadAverage, bun: Bun.version, platform: `${process.platform}-${process.arch}` },
      stack: { reused: stack.reused, apiUrl: ctx.apiUrl, apiProcesses: stack.settings.API_COUNT, updaters: stack.settings.UPDATER_COUNT, commandPartitions: ctx.partitions, seededUsers: users },
      scenarios, budgetMs: BUDGET_MS, verdict: overallVerdict(scenarios)
    }
    const summary = renderSummary(report)
    writeFileSync(join(outDir, 'results.json'), JSON.stringify(report, (_, v) => typeof v === 'number' && !Number.isFinite(v) ? null : v, 2) + '\n')
    writeFileSync(join(outDir, 'summary.md'), summary)
    writeFileSync(join(outDir, 'report.html'), renderHtml(report))
    const capacity = writeCapacity(report, join(import.meta.dir, 'CAPACITY.md'), join('results', stamp, 'results.json'))
    process.stdout.write(summary)
    progress(`wrote ${outDir}/{results.json,summary.md,report.html} and ${capacity}`)
    return report.verdict.ok ? 0 : 1
  } finally {
    await cleanup()
  }
}

main().then(code => process.exit(code), err => {
  progress(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exit(2)
})
