import { readFileSync } from 'node:fs'
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
/** A port free on 127.0.0.1 now (see freePorts). */
export function freePort (): number {
  return freePorts(1)
}

const handedOut = new Set<number>()

/**
 * The first of `count` consecutive ports free on 127.0.0.1, below the kernel's ephemeral range.
 * A port from that range (what binding port 0 gives) can be taken by any outgoing connection
 * before the process meant to listen on it starts: a role once failed to start for 50 s that way.
 * Below it only listeners compete; each port is checked when picked, and none is handed out twice
 * by this process.
 */
export function freePorts (count: number): number {
  const low = ephemeralLow()
  const min = 20_000
  const max = low - count
  if (max - min < 1000) return bindAnyPort() // an unusual port range: fall back on the kernel's pick
  for (let tries = 0; tries < 500; tries++) {
    const base = min + Math.floor(Math.random() * (max - min))
    const block = Array.from({ length: count }, (_, i) => base + i)
    if (block.some(p => handedOut.has(p)) || !block.every(canListen)) continue
    for (const p of block) handedOut.add(p)
    return base
  }
  throw new Error(`no ${count} consecutive free port(s) between ${min} and ${low}`)
}

function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 0 ? low : 32_768
  } catch {
    return 32_768
  }
}

function canListen (port: number): boolean {
  try {
    Bun.listen({ hostname: '127.0.0.1', port, socket: { data () {} } }).stop(true)
    return true
  } catch {
    return false
  }
}

function bindAnyPort (): number {
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
