import { createLogger, type Logger } from '../../shared/log/logger.ts'

/**
 * The stack talks to a person at a terminal: one short line per event with the time since start,
 * the event and its fields, e.g. `[ 12.4s] service_ready service=kafka ms=10950`.
 */
export function consoleLogger (component: string): Logger {
  const t0 = performance.now()
  return createLogger(component, 'info', {}, line => {
    const { time: _t, level, component: _c, msg, ...fields } = JSON.parse(line) as { level: string } & Record<string, unknown>
    const secs = ((performance.now() - t0) / 1000).toFixed(1).padStart(6)
    const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
    const out = level === 'error' || level === 'fatal' || level === 'warn' ? process.stderr : process.stdout
    out.write(`[${secs}s] ${level === 'info' ? '' : level.toUpperCase() + ' '}${String(msg)}${rest ? ' ' + rest : ''}\n`)
  })
}
