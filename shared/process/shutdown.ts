import { type Logger } from '../log/logger.ts'

/**
 * Graceful shutdown on SIGTERM/SIGINT: runs `steps` once, in order, then exits 0 (1 if a step
 * failed, or if the whole takes longer than `graceMs`: a stuck shutdown must not hang forever).
 */
export function onShutdown (log: Logger, graceMs: number, steps: Array<[string, () => Promise<void> | void]>): () => boolean {
  let started = false
  const run = async (signal: string) => {
    if (started) return
    started = true
    log.info('shutdown_started', { signal })
    const guard = setTimeout(() => { log.error('shutdown_timeout', { graceMs }); process.exit(1) }, graceMs)
    let failed = false
    for (const [name, step] of steps) {
      const t0 = performance.now()
      try {
        await step()
        log.info('shutdown_step', { step: name, ms: Math.round(performance.now() - t0) })
      } catch (err) {
        failed = true
        log.error('shutdown_step_failed', { step: name, error: err as Error })
      }
    }
    clearTimeout(guard)
    log.info('shutdown_done', { failed })
    process.exit(failed ? 1 : 0)
  }
  process.on('SIGTERM', () => void run('SIGTERM'))
  process.on('SIGINT', () => void run('SIGINT'))
  return () => started
}
