import { type Server } from 'bun'
import { errorBody, type ErrorCode } from '../errors.ts'
import { type ClientAddresses, setClientAddress } from './client-address.ts'

export interface ServeOptions {
  port: number
  hostname: string
  /** Larger bodies get 413 (BODY_LIMIT_BYTES); Bun's maxRequestBodySize says the same. */
  maxBodyBytes: number
  /** A body not fully received by then gets 408 and the connection is closed (BODY_READ_TIMEOUT_MS). */
  bodyReadTimeoutMs: number
  addresses: ClientAddresses
  /** Seconds a connection may stay silent (Bun's idleTimeout); streams send heartbeats well inside it. */
  idleTimeoutS?: number
  /** Told of each body refused here (a metric; no log line: a slowloris would flood the log). */
  onRefused?: (code: ErrorCode) => void
}

type Fetch = (request: Request) => Response | Promise<Response>

/**
 * The API's HTTP server. Before the app sees a request with a body, the whole body is read here,
 * within `bodyReadTimeoutMs` and `maxBodyBytes`: a client that sends its body a byte a second, or
 * too much of it, is answered 408/413 and closed before any route work runs (the agency route
 * would otherwise wait on the body, holding a slot). HAProxy does the same in front
 * (`option http-buffer-request`); this covers a process reachable without it. The client's
 * address (client-address.ts) is recorded for the app's logs.
 */
export function serveApi (fetch: Fetch, o: ServeOptions): Server<undefined> {
  return Bun.serve({
    port: o.port,
    hostname: o.hostname,
    maxRequestBodySize: o.maxBodyBytes,
    idleTimeout: o.idleTimeoutS ?? 30,
    fetch: async (req, server) => {
      const client = o.addresses.of(server.requestIP(req)?.address, req.headers.get('x-forwarded-for'))
      let request = req
      if (req.body) {
        const read = await readBody(req, o)
        if (!read.ok) {
          o.onRefused?.(read.code)
          return refuse(read.status, read.code, read.message)
        }
        request = new Request(req.url, { method: req.method, headers: req.headers, body: read.body, signal: req.signal })
      }
      setClientAddress(request, client)
      return fetch(request)
    }
  })
}

type Read = { ok: true, body: Uint8Array } | { ok: false, status: number, code: ErrorCode, message: string }

/** Reads the whole body, or stops at the deadline or the size cap (the reader is cancelled). */
export async function readBody (req: Request, o: { maxBodyBytes: number, bodyReadTimeoutMs: number }): Promise<Read> {
  const declared = Number(req.headers.get('content-length') ?? 0)
  if (declared > o.maxBodyBytes) return { ok: false, status: 413, code: 'payload_too_large', message: `the body exceeds ${o.maxBodyBytes} bytes` }
  const reader = req.body!.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let complete = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>(resolve => { timer = setTimeout(() => resolve('late'), o.bodyReadTimeoutMs) })
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), late])
      if (r === 'late') return { ok: false, status: 408, code: 'request_timeout', message: `the body was not received within ${o.bodyReadTimeoutMs} ms` }
      if (r.done) { complete = true; break }
      size += r.value.byteLength
      if (size > o.maxBodyBytes) return { ok: false, status: 413, code: 'payload_too_large', message: `the body exceeds ${o.maxBodyBytes} bytes` }
      chunks.push(r.value)
    }
  } catch {
    return { ok: false, status: 400, code: 'bad_request', message: 'the body could not be read' }
  } finally {
    clearTimeout(timer)
    if (!complete) reader.cancel().catch(() => {})
  }
  const body = new Uint8Array(size)
  let at = 0
  for (const c of chunks) { body.set(c, at); at += c.byteLength }
  return { ok: true, body }
}

function refuse (status: number, code: ErrorCode, message: string): Response {
  // The rest of the body is never read: the connection cannot carry another request.
  return Response.json(errorBody(code, message), { status, headers: { connection: 'close' } })
}
