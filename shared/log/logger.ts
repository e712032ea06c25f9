/** Structured JSON logs, one object a line on stdout: `{ time, level, component, msg, ...fields }`. */
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal'
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 }

export interface Logger {
  debug (msg: string, fields?: Record<string, unknown>): void
  info (msg: string, fields?: Record<string, unknown>): void
  warn (msg: string, fields?: Record<string, unknown>): void
  error (msg: string, fields?: Record<string, unknown>): void
  fatal (msg: string, fields?: Record<string, unknown>): void
  child (fields: Record<string, unknown>): Logger
}

export function createLogger (component: string, level: Level = 'info', base: Record<string, unknown> = {}, write: (line: string) => void = defaultWrite): Logger {
  const min = rank[level]
  const log = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, component, msg, ...base, ...(fields && serializeErrors(fields)) }) + '\n')
  }
  return {
    debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal'),
    child: (fields) => createLogger(component, level, { ...base, ...fields }, write)
  }
}

function defaultWrite (line: string): void { process.stdout.write(line) }

// Error objects stringify to {}: keep name, message, code and cause.
function serializeErrors (fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? errorFields(v) : v
  return out
}

export function errorFields (err: Error): Record<string, unknown> {
  const e = err as Error & { code?: unknown, cause?: unknown }
  return {
    name: e.name, message: e.message,
    ...(e.code !== undefined && { code: e.code }),
    ...(e.cause instanceof Error && { cause: errorFields(e.cause) })
  }
}
