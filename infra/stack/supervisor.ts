import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { type Subprocess } from 'bun'
import { type Logger } from '../../shared/log/logger.ts'
import { type ServiceSpec } from './service.ts'

interface Running {
  spec: ServiceSpec
  proc: Subprocess
  log: WriteStream
  startedAt: number
  restarts: number
  stopping: boolean
}

/**
 * Starts services in order, each only once the previous is ready; restarts one that exits on its own,
 * with exponential backoff (reset after a minute of good health); stops all in reverse order.
 * Every child's stdout and stderr go to `<logDir>/<name>.log`.
 */
export class Supervisor {
  private readonly running = new Map<string, Running>()
  private stopping = false
  /** Aborted by stopAll: starts still waiting for readiness give up. */
  private readonly stopped = new AbortController()

  constructor (private readonly logDir: string, private readonly log: Logger, private readonly onPids?: (pids: number[]) => void) {
    mkdirSync(logDir, { recursive: true })
  }

  /**
   * Starts a service and waits until it is ready. A restartable one that exits meanwhile is
   * restarted with backoff as at any other time, and the wait goes on (a role can fail its first
   * connection to Kafka); one that is not restartable fails the start at once.
   */
  async start (spec: ServiceSpec): Promise<void> {
    const r = this.spawn(spec, 0)
    const timeout = spec.readyTimeoutMs ?? 30_000
    const t0 = performance.now()
    const ctl = AbortSignal.any([AbortSignal.timeout(timeout), this.stopped.signal, ...(spec.restart ? [] : [exitSignal(r.proc)])])
    try {
      await spec.ready(ctl)
    } catch (err) {
      const current = this.running.get(spec.name)?.proc ?? r.proc
      const why = this.stopped.signal.aborted ? 'the stack is stopping' : current.exitCode !== null ? `exited with code ${current.exitCode}` : `not ready within ${timeout} ms`
      throw new Error(`${spec.name} failed to start: ${why} (${(err as Error).message}); see ${this.logFile(spec.name)}`)
    }
    this.log.info('service_ready', { service: spec.name, pid: this.running.get(spec.name)?.proc.pid, ms: Math.round(performance.now() - t0) })
  }

  pids (): number[] { return [...this.running.values()].map(r => r.proc.pid) }

  logFile (name: string): string { return join(this.logDir, `${name}.log`) }

  private spawn (spec: ServiceSpec, restarts: number): Running {
    const log = createWriteStream(this.logFile(spec.name), { flags: 'a' })
    const proc = Bun.spawn(spec.cmd, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe'
    })
    pipe(proc.stdout as ReadableStream<Uint8Array>, log)
    pipe(proc.stderr as ReadableStream<Uint8Array>, log)
    const r: Running = { spec, proc, log, startedAt: Date.now(), restarts, stopping: false }
    this.running.set(spec.name, r)
    this.onPids?.(this.pids())
    proc.exited.then(code => this.exited(r, code))
    return r
  }

  private exited (r: Running, code: number): void {
    r.log.end()
    if (r.stopping || this.stopping) return
    const { spec } = r
    if (!spec.restart) {
      this.log.error('service_exited', { service: spec.name, code, restart: false })
      return
    }
    // Healthy for a minute: forget earlier crashes.
    const restarts = Date.now() - r.startedAt > 60_000 ? 0 : r.restarts + 1
    const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts, 6)) * (0.5 + Math.random() / 2)
    this.log.warn('service_restart', { service: spec.name, code, restarts, delayMs: Math.round(delay), logFile: this.logFile(spec.name) })
    setTimeout(() => {
      if (this.stopping) return
      const next = this.spawn(spec, restarts)
      spec.ready(AbortSignal.any([AbortSignal.timeout(spec.readyTimeoutMs ?? 30_000), exitSignal(next.proc)]))
        .then(() => this.log.info('service_ready', { service: spec.name, pid: next.proc.pid, restarts }))
        .catch(err => this.log.error('service_not_ready', { service: spec.name, error: (err as Error).message }))
    }, delay)
  }

  /** Stops every service, last started first; SIGKILL after its grace time. */
  async stopAll (): Promise<void> {
    this.stopping = true
    this.stopped.abort()
    for (const r of [...this.running.values()].reverse()) await this.stopOne(r)
    this.running.clear()
    this.onPids?.([])
  }

  async stop (name: string): Promise<void> {
    const r = this.running.get(name)
    if (r) { await this.stopOne(r); this.running.delete(name); this.onPids?.(this.pids()) }
  }

  private async stopOne (r: Running): Promise<void> {
    r.stopping = true
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) return
    const t0 = performance.now()
    r.proc.kill('SIGTERM')
    const grace = r.spec.stopTimeoutMs ?? 10_000
    const timedOut = await Promise.race([r.proc.exited.then(() => false), Bun.sleep(grace).then(() => true)])
    if (timedOut) {
      this.log.warn('service_kill', { service: r.spec.name, graceMs: grace })
      r.proc.kill('SIGKILL')
      await r.proc.exited
    }
    this.log.info('service_stopped', { service: r.spec.name, ms: Math.round(performance.now() - t0), code: r.proc.exitCode, signal: r.proc.signalCode })
  }
}

function exitSignal (proc: Subprocess): AbortSignal {
  const ctl = new AbortController()
  proc.exited.then(code => ctl.abort(new Error(`exited with code ${code}`)))
  return ctl.signal
}

async function pipe (stream: ReadableStream<Uint8Array>, out: WriteStream): Promise<void> {
  try {
    for await (const chunk of stream) if (!out.writableEnded) out.write(chunk)
  } catch {}
}
