import { Elysia } from 'elysia'
import { StatusMap } from 'elysia'
import { type Registry } from '../shared/metrics/registry.ts'
import { ApiError } from './errors.ts'

/**
 * Request metrics by route PATTERN (`/v1/trips/:id`, never the raw path, so series stay bounded;
 * `unmatched` for unknown routes), method and status:
 *   api_http_requests_total, api_http_request_seconds (histogram), api_http_in_flight (gauge).
 * Also the body limit: a declared Content-Length over `bodyLimitBytes` is 413 before anything is
 * read (Bun's maxRequestBodySize enforces the same limit on chunked bodies in the server).
 */
export function observability (registry: Registry, o: { bodyLimitBytes: number }) {
  const requests = registry.counter('api_http_requests_total', 'HTTP requests answered, by method, route pattern and status')
  const latency = registry.histogram('api_http_request_seconds', 'HTTP response time, by method, route pattern and status')
  const inFlight = registry.gauge('api_http_in_flight', 'HTTP requests being handled')
  const started = new WeakMap<Request, number>()
  return new Elysia({ name: 'observability' })
    .onRequest(({ request }) => {
      started.set(request, performance.now())
      inFlight.inc()
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length > o.bodyLimitBytes) throw new ApiError(413, 'payload_too_large', `the body exceeds ${o.bodyLimitBytes} bytes`)
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      const t0 = started.get(request)
      if (t0 === undefined) return
      started.delete(request)
      inFlight.dec()
      const status = typeof set.status === 'number' ? set.status : (StatusMap as Record<string, number>)[String(set.status)] ?? 200
      const labels = { method: request.method, route: route || 'unmatched', status }
      requests.inc(labels)
      latency.observe(labels, (performance.now() - t0) / 1000)
    })
}
