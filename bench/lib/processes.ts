import { createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'

/**
 * Processes the bench starts itself (bare baseline servers, HAProxy over them, drain updaters):
 * each logged to `<dir>/<name>.log`, each stopped by its own pid (SIGTERM, then SIGKILL), all of
 * them on exit, so a run never leaves anything behind.
 */
export class ProcessGroup {
  private readonly procs = new Map<string, Subprocess>()
  constructor (private readonly logDir: string) { mkdirSync(logDir, { recursive: true }) }

  spawn (name: string, cmd: string[], env: Record<string, string> = {}): Subprocess {
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' })
    const proc = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    for (const s of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[]) {
      void (async () => { try { for await (const c of s) log.write(c) } catch {} })()
    }
    proc.exited.then(() => log.end())
    this.procs.set(name, proc)
    return proc
  }

  logFile (name: string): string { return join(this.logDir, `${name}.log`) }

  async stop (name: string, graceMs = 10_000): Promise<void> {
    const p = this.procs.get(name)
    if (!p) return
    this.procs.delete(name)
    if (p.exitCode !== null || p.signalCode !== null) return
    p.kill('SIGTERM')
    const done = await Promise.race([p.exited.then(() => true), Bun.sleep(graceMs).then(() => false)])
    if (!done) { p.kill('SIGKILL'); await p.exited }
  }

  async stopAll (): Promise<void> {
    await Promise.all([...this.procs.keys()].map(n => this.stop(n)))
  }

  /** Synchronous last resort (process exit): SIGKILL whatever is still running. */
  killAllNow (): void {
    for (const p of this.procs.values()) if (p.exitCode === null) try { p.kill('SIGKILL') } catch {}
  }
}

export { freePort } from '../../infra/stack/service.ts'

/** Polls an HTTP URL until it answers 200, the process exits, or the timeout passes. */
export async function waitHttp (url: string, timeoutMs: number, proc?: Subprocess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`${url}: process exited with code ${proc.exitCode}`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) return
    } catch {}
    await Bun.sleep(100)
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`)
}
