/** What the supervisor needs to run one process of the local stack. */
export interface ServiceSpec {
  /** Unique, e.g. `kafka`, `api-1`. Also the log file's name. */
  name: string
  cmd: string[]
  env?: Record<string, string>
  cwd?: string
  /** Resolves once the service accepts work; rejects or times out otherwise. */
  ready: (signal: AbortSignal) => Promise<void>
  /** How long `ready` may take, first start included (Kafka's first start takes ≈ 11 s). */
  readyTimeoutMs?: number
  /** Grace time after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number
  /** Restart with backoff when the process exits on its own. */
  restart?: boolean
}

/** Polls `probe` until it resolves true, `signal` aborts, or the deadline passes. */
export async function pollUntil (what: string, probe: () => Promise<boolean>, signal: AbortSignal, intervalMs = 200): Promise<void> {
  while (!signal.aborted) {
    try { if (await probe()) return } catch {}
    await Bun.sleep(intervalMs)
  }
  throw new Error(`${what} not ready: ${String(signal.reason ?? 'aborted')}`)
}

/** A free TCP port on 127.0.0.1, chosen by the kernel (bound, read, released). */
export function freePort (): number {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data () {} } })
  const port = server.port
  server.stop(true)
  return port
}

export async function httpOk (url: string, timeoutMs = 1000): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  await res.arrayBuffer()
  return res.ok
}

export async function tcpOpen (host: string, port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data () {}, error () {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}
