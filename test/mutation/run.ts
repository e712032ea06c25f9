/**
 * Mutation check of the domain core (`bun run mutation`): applies every
 * mutant that test/mutation/mutants.ts generates from shared/domain/*.ts, one
 * at a time, in temporary copies of the repo (never in this work tree), runs
 * the pure unit tests of the domain and of the updater code that calls the
 * fold, and reports per file how many mutants the tests kill.
 *
 * A mutant is killed when the tests fail or exceed the per-mutant timeout,
 * and survives when they pass. Not part of `npm test`: it takes minutes.
 *
 *   bun test/mutation/run.ts [--files fold.ts,loads.ts] [--jobs 2]
 *     [--timeout-ms 180000] [--sample N [--sample-from K]] [--only report.json] [--out report.json]
 *
 * `--only` re-runs just the mutants that survived in an earlier report (the
 * killed ones cannot come back by adding tests), to measure new tests fast.
 * `--sample N` runs every Nth mutant of each file (a deterministic stride,
 * starting at the Kth with `--sample-from K`),
 * for an estimate when the machine is too busy for all of them. The same
 * timeout is given to each test, so a test slowed down by load is not
 * counted as a kill.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { generateMutants, type Mutant } from './mutants.ts'

const ROOT = resolve(import.meta.dir, '../..')
const DOMAIN = 'shared/domain'
/** Updater unit tests that run the real fold and load plan (no infrastructure). */
const UPDATER_TESTS = ['updater/batch-processor.test.ts', 'updater/isolation.test.ts']

interface Options {
  files: string[] | undefined
  jobs: number
  timeoutMs: number
  only: string | undefined
  out: string | undefined
  sample: number
  sampleFrom: number
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { files: undefined, jobs: 2, timeoutMs: 180_000, only: undefined, out: undefined, sample: 1, sampleFrom: 0 }
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1]
    const need = () => {
      if (value === undefined) throw new Error(`${argv[i]} needs a value`)
      i++
      return value
    }
    switch (argv[i]) {
      case '--files': opts.files = need().split(','); break
      case '--jobs': opts.jobs = Number(need()); break
      case '--timeout-ms': opts.timeoutMs = Number(need()); break
      case '--only': opts.only = need(); break
      case '--out': opts.out = need(); break
      case '--sample': opts.sample = Number(need()); break
      case '--sample-from': opts.sampleFrom = Number(need()); break
      default: throw new Error(`unknown argument ${argv[i]}`)
    }
  }
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new Error('--jobs must be a positive integer')
  if (!Number.isInteger(opts.sample) || opts.sample < 1) throw new Error('--sample must be a positive integer')
  if (!Number.isInteger(opts.sampleFrom) || opts.sampleFrom < 0 || opts.sampleFrom >= opts.sample) throw new Error('--sample-from must be from 0 to the sample stride - 1')
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1000) throw new Error('--timeout-ms must be at least 1000')
  return opts
}

type Outcome = 'killed' | 'survived' | 'timeout'
interface Result extends Omit<Mutant, 'source'> {
  file: string
  outcome: Outcome
}

/** A throw-away copy of the parts of the repo the unit tests load. */
function makeCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mutation-'))
  for (const entry of ['shared', 'updater', 'package.json', 'tsconfig.json', 'bunfig.toml']) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true })
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

function testFiles(): string[] {
  const domainTests = readdirSync(join(ROOT, DOMAIN))
    .filter((f) => f.endsWith('.test.ts') && !f.endsWith('.integration.test.ts'))
    .map((f) => `${DOMAIN}/${f}`)
  return [...domainTests, ...UPDATER_TESTS]
}

async function runTests(dir: string, tests: string[], timeoutMs: number): Promise<Outcome> {
  const proc = Bun.spawn([process.execPath, 'test', '--bail', `--timeout=${timeoutMs}`, ...tests.map((t) => `./${t}`)], {
    cwd: dir,
    stdout: 'ignore',
    stderr: 'ignore',
    env: { ...process.env, NODE_ENV: 'test' },
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    proc.kill('SIGKILL')
  }, timeoutMs)
  const code = await proc.exited
  clearTimeout(timer)
  return timedOut ? 'timeout' : code === 0 ? 'survived' : 'killed'
}

/** The fold and what feeds it first, so their survivors are known early in a long run. */
const rank = (file: string) => ['fold.ts', 'loads.ts', 'items.ts'].indexOf(file) >>> 0

const pct = (killed: number, total: number) => (total === 0 ? '—' : `${((100 * killed) / total).toFixed(1)}%`)

async function main() {
  const opts = parseArgs(Bun.argv.slice(2))
  const sources = readdirSync(join(ROOT, DOMAIN))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'test-fixtures.ts')
    .filter((f) => !opts.files || opts.files.includes(f))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  const keep = opts.only ? new Set((await Bun.file(opts.only).json() as Result[])
    .filter((r) => r.outcome === 'survived')
    .map((r) => `${r.file}|${r.line}|${r.operator}|${r.from}|${r.to}`)) : undefined

  const work: { file: string; mutant: Mutant; original: string }[] = []
  for (const file of sources) {
    const original = await Bun.file(join(ROOT, DOMAIN, file)).text()
    for (const [i, mutant] of generateMutants(original).entries()) {
      if (i % opts.sample !== opts.sampleFrom) continue
      if (keep && !keep.has(`${file}|${mutant.line}|${mutant.operator}|${mutant.from}|${mutant.to}`)) continue
      work.push({ file, mutant, original })
    }
  }
  const tests = testFiles()
  const copies = Array.from({ length: Math.min(opts.jobs, Math.max(work.length, 1)) }, makeCopy)
  try {
    const t0 = performance.now()
    if ((await runTests(copies[0]!, tests, opts.timeoutMs)) !== 'survived') {
      throw new Error('the unit tests fail on the unmutated code: fix them first')
    }
    const sampled = opts.sample > 1 ? ` (every ${opts.sample}th of each file from the ${opts.sampleFrom}th)` : ''
    console.log(`baseline passes in ${Math.round(performance.now() - t0)} ms; ${work.length} mutants${sampled}, ${tests.length} test files, ${copies.length} jobs`)

    const results: Result[] = []
    let next = 0
    await Promise.all(copies.map(async (dir) => {
      while (next < work.length) {
        const { file, mutant, original } = work[next++]!
        const path = join(dir, DOMAIN, file)
        writeFileSync(path, mutant.source)
        const outcome = await runTests(dir, tests, opts.timeoutMs)
        writeFileSync(path, original)
        const { source: _, ...rest } = mutant
        results.push({ file, ...rest, outcome })
        if (results.length % 25 === 0) {
          console.log(`${results.length}/${work.length} done`)
          if (opts.out) writeFileSync(opts.out, JSON.stringify(results, null, 1) + '\n') // partial, readable while running
        }
      }
    }))

    results.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)
    console.log('\nfile               mutants  killed  survived  score')
    const rows = [...new Set(results.map((r) => r.file)), 'all']
    for (const file of rows) {
      const rs = results.filter((r) => file === 'all' || r.file === file)
      const killed = rs.filter((r) => r.outcome !== 'survived').length
      console.log(`${file.padEnd(18)} ${String(rs.length).padStart(7)} ${String(killed).padStart(7)} ${String(rs.length - killed).padStart(9)}  ${pct(killed, rs.length)}`)
    }
    const survivors = results.filter((r) => r.outcome === 'survived')
    if (survivors.length > 0) console.log('\nsurvivors:')
    for (const r of survivors) console.log(`  ${r.file}:${r.line} ${r.operator}: ${JSON.stringify(r.from)} → ${JSON.stringify(r.to)}`)
    if (opts.out) writeFileSync(opts.out, JSON.stringify(results, null, 1) + '\n')
  } finally {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
