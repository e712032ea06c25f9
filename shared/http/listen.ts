import { type Logger } from '../log/logger.ts'

/** Exit code of a role that cannot listen on its port (EX_UNAVAILABLE). */
export const EXIT_PORT_UNAVAILABLE = 69

/**
 * Starts listening, or stops the process with one structured line naming the port and the
 * variable that set it when the port is taken, instead of a stack trace.
 */
export function listenOrExit (listen: () => void, where: { host: string, port: number, variable?: string }, log: Logger): void {
  try {
    listen()
  } catch (err) {
    const e = err as { code?: string, message?: string }
    if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') throw err
    log.error('listen_failed', { host: where.host, port: where.port, variable: where.variable ?? 'PORT', code: e.code, note: e.code === 'EADDRINUSE' ? 'the port is taken by another process' : 'not allowed to listen on this port' })
    process.exit(EXIT_PORT_UNAVAILABLE)
  }
}
