import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, freePorts, stackEnv, waitFor } from '../../test/support/stack.ts'
import { alive, cmdline } from './pidfile.ts'
import { repoRoot } from './stack.ts'

/** Every live process whose command line names `marker`. */
function processesNaming (marker: string): number[] {
  return readdirSync('/proc').filter(d => /^\d+$/.test(d)).map(Number).filter(pid => pid !== process.pid && (cmdline(pid) ?? '').includes(marker))
}

describe('npm start’s supervisor', () => {
  test('brings the whole stack up, refuses a second start, restarts a crashed role with backoff, stops every process on SIGTERM', async () => {
    stackEnv()
    const dataDir = mkdtempSync(join(tmpdir(), 'stack-sigterm-'))
    const kafkaPort = freePort()
    const roles = freePorts(5) // 2 APIs, 2 updaters, 1 notifier
    const env: Record<string, string> = {
      ...process.env as Record<string, string>,
      STACK_DATA_DIR: dataDir,
      KAFKA_PORT: String(kafkaPort), KAFKA_CONTROLLER_PORT: String(freePort()), DYNAMODB_PORT: String(freePort()),
      HAPROXY_PORT: String(freePort()), HAPROXY_STATS_PORT: String(freePort()),
      API_BASE_PORT: String(roles), UPDATER_BASE_PORT: String(roles + 2), NOTIFIER_BASE_PORT: String(roles + 4),
      API_COUNT: '2', UPDATER_COUNT: '2', NOTIFIER_COUNT: '1', KAFKA_HEAP_MB: '384'
    }
    const stack = Bun.spawn([process.execPath, join(repoRoot, 'infra/stack/main.ts'), 'start'], { cwd: repoRoot, env, stdout: 'pipe', stderr: 'pipe' })
    let output = ''
    const collect = async (s: ReadableStream<Uint8Array>) => { for await (const c of s) output += new TextDecoder().decode(c) }
    void collect(stack.stdout as ReadableStream<Uint8Array>)
    void collect(stack.stderr as ReadableStream<Uint8Array>)
    try {
      // A stack that failed to start exits: stop waiting then, its output says why.
      await waitFor('the stack to be up', () => output.includes('Road Warrior is up') || stack.exitCode !== null, 60_000, 250)
      expect(stack.exitCode).toBeNull()
      const pids = readFileSync(join(dataDir, 'stack.pids'), 'utf8').split('\n').filter(Boolean).map(Number)
      // the stack itself, kafka, dynalite, 2 APIs, haproxy, 2 updaters, 1 notifier
      expect(pids.length).toBe(9)
      expect(pids.every(alive)).toBe(true)
      const api = await fetch(`http://127.0.0.1:${env.HAPROXY_PORT}/readyz`)
      expect(api.status).toBe(200)

      // A second start on the same folder refuses, and leaves the running stack alone.
      const second = Bun.spawnSync([process.execPath, join(repoRoot, 'infra/stack/main.ts'), 'start'], { cwd: repoRoot, env, stdout: 'pipe', stderr: 'pipe', timeout: 30_000 })
      expect(second.exitCode).toBe(75)
      expect(second.stderr.toString()).toContain('stack_already_running')
      expect(pids.every(alive)).toBe(true)

      // Backoff: kill -9 an updater, then its replacement as soon as it appears. The supervisor
      // waits 500 to 1000 ms before the first restart and twice that before the second (a crash
      // again within a minute), and spawns the replacement no sooner than the delay it logged.
      const readPids = () => readFileSync(join(dataDir, 'stack.pids'), 'utf8').split('\n').filter(Boolean).map(Number)
      const restartAfterKill = async (pid: number) => {
        const known = new Set(readPids())
        const logged = (output.match(/service_restart service=updater-\d[^\n]*/g) ?? []).length
        const t0 = performance.now()
        process.kill(pid, 'SIGKILL')
        let next = 0
        await waitFor('the updater to be spawned again', () => {
          next = readPids().find(p => !known.has(p) && (cmdline(p) ?? '').includes('updater/main.ts')) ?? 0
          return next > 0
        }, 10_000, 10)
        const waitedMs = performance.now() - t0
        const line = (output.match(/service_restart service=updater-\d[^\n]*/g) ?? [])[logged]
        return { pid: next, waitedMs, delayMs: Number(/delayMs=(\d+)/.exec(line ?? '')?.[1] ?? NaN), restarts: Number(/restarts=(\d+)/.exec(line ?? '')?.[1] ?? NaN) }
      }
      const first = await restartAfterKill(pids.find(pid => (cmdline(pid) ?? '').includes('updater/main.ts'))!)
      const then = await restartAfterKill(first.pid)
      expect([first.restarts, then.restarts]).toEqual([1, 2])
      expect(first.delayMs).toBeGreaterThanOrEqual(500)
      expect(first.delayMs).toBeLessThanOrEqual(1000)
      expect(then.delayMs).toBeGreaterThanOrEqual(1000)
      expect(then.delayMs).toBeLessThanOrEqual(2000)
      expect(first.waitedMs).toBeGreaterThanOrEqual(first.delayMs - 5)
      expect(then.waitedMs).toBeGreaterThanOrEqual(then.delayMs - 5)
      await waitFor('the restarted updater to be ready', () => (output.match(/service_ready service=updater-\d pid=\d+ restarts=2/) ?? []).length > 0, 30_000)

      const before = processesNaming(dataDir).length + processesNaming(repoRoot + '/').length
      expect(before).toBeGreaterThan(0)
      stack.kill('SIGTERM')
      const code = await Promise.race([stack.exited, Bun.sleep(60_000).then(() => 'timeout')])
      expect(code).toBe(0)
      const live = readFileSync(join(dataDir, 'stack.pids'), 'utf8').split('\n').filter(Boolean).map(Number)
      expect(pids.filter(alive)).toEqual([])
      expect(live.filter(alive)).toEqual([])
      expect(processesNaming(dataDir)).toEqual([])
      expect(output).toContain('stack_stopping signal=SIGTERM')
    } catch (err) {
      process.stderr.write(`--- stack output ---\n${output}\n---\n`)
      // The roles' own logs say why one exited (they go with the folder below).
      try {
        for (const f of readdirSync(join(dataDir, 'logs'))) process.stderr.write(`--- ${f} (last lines) ---\n${readFileSync(join(dataDir, 'logs', f), 'utf8').split('\n').slice(-15).join('\n')}\n`)
      } catch {}
      throw err
    } finally {
      if (stack.exitCode === null) stack.kill('SIGKILL')
      for (const pid of processesNaming(dataDir)) try { process.kill(pid, 'SIGKILL') } catch {}
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 240_000)
})
