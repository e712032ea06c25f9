import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { alive, killLeftovers } from './pidfile.ts'
import { repoRoot } from './stack.ts'

// A stack killed with SIGKILL cannot stop its children: the next start must. Here the "stack" is a
// small process running the real Supervisor with the pid file written as launchStack writes it
// (its own pid first), and its services are cheap sleepers, one started from this checkout (as the
// roles are) and one naming the data folder (as Kafka and dynalite do).
const dataDir = mkdtempSync(join(tmpdir(), 'stack-orphans-'))
const pidFile = join(dataDir, 'stack.pids')
const spawned: number[] = []
afterAll(() => {
  for (const pid of spawned) try { process.kill(pid, 'SIGKILL') } catch {}
  rmSync(dataDir, { recursive: true, force: true })
})

const fakeStack = `
import { Supervisor } from ${JSON.stringify(join(repoRoot, 'infra/stack/supervisor.ts'))}
import { writePids } from ${JSON.stringify(join(repoRoot, 'infra/stack/pidfile.ts'))}
import { createLogger } from ${JSON.stringify(join(repoRoot, 'shared/log/logger.ts'))}
const [pidFile, dataDir, repoRoot] = process.argv.slice(2)
const sup = new Supervisor(dataDir + '/logs', createLogger('fake-stack', 'error'), pids => writePids(pidFile, [process.pid, ...pids]))
const ready = async () => {}
await sup.start({ name: 'role', cmd: ['sleep', '300'], cwd: repoRoot, ready, restart: true })
await sup.start({ name: 'infra', cmd: [process.execPath, '-e', 'setInterval(() => {}, 1e6)', dataDir], cwd: '/', ready, restart: true })
console.log('up')
await new Promise(() => {})
`

/** Not running: gone, or a zombie waiting for its parent (the kernel still answers kill 0 for it). */
const gone = (pid: number) => {
  if (!alive(pid)) return true
  try { return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return true }
}

test('a start after a stack killed with SIGKILL stops the orphans named in its pid file, and only ours', async () => {
  const script = join(dataDir, 'fake-stack.ts')
  writeFileSync(script, fakeStack)
  const stack = Bun.spawn([process.execPath, script, pidFile, dataDir, repoRoot], { cwd: repoRoot, stdout: 'pipe', stderr: 'inherit' })
  spawned.push(stack.pid)
  const reader = (stack.stdout as ReadableStream<Uint8Array>).getReader()
  const first = await Promise.race([reader.read(), Bun.sleep(15_000).then(() => undefined)])
  expect(new TextDecoder().decode(first?.value)).toContain('up')

  const [owner, ...children] = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)
  expect(owner).toBe(stack.pid)
  expect(children.length).toBe(2)
  spawned.push(...children)
  // A process listed in the file that is not ours (a recycled pid): started elsewhere, naming nothing of ours.
  const stranger = Bun.spawn(['sleep', '300'], { cwd: '/', stdout: 'ignore', stderr: 'ignore' })
  spawned.push(stranger.pid)
  writeFileSync(pidFile, readFileSync(pidFile, 'utf8') + `${stranger.pid}\n`)

  stack.kill('SIGKILL')
  await stack.exited
  // SIGKILL gave the stack no chance: its children outlive it.
  await Bun.sleep(200)
  expect(children.every(alive)).toBe(true)

  const t0 = performance.now()
  const stopped = await killLeftovers(pidFile, dataDir, repoRoot)
  expect(stopped.sort()).toEqual([...children].sort())
  expect(children.every(gone)).toBe(true)
  // They stop on SIGTERM: no need for the 15 s wait before SIGKILL.
  expect(performance.now() - t0).toBeLessThan(5000)
  expect(alive(stranger.pid)).toBe(true)
  expect(readFileSync(pidFile, 'utf8').trim()).toBe('')
  // A second start finds nothing left to stop.
  expect(await killLeftovers(pidFile, dataDir, repoRoot)).toEqual([])
}, 30_000)
