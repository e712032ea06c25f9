import { Elysia } from 'elysia'
import { contentType, type Registry } from '../metrics/registry.ts'

export type Check = () => Promise<boolean> | boolean

export interface OpsOptions {
  registry: Registry
  /** Named readiness checks; all must pass. Each is given `timeoutMs` to answer. */
  checks: Record<string, Check>
  /** True once the process is shutting down: readiness fails so the load balancer drains it. */
  draining: () => boolean
  timeoutMs?: number
}

/**
 * `/healthz` (alive), `/readyz` (ready for work, with each check's result), `/metrics` (Prometheus).
 * `/readyz?exclude=a,b` (or `exclude` repeated, as kube-apiserver does) leaves named checks out: a
 * load balancer checks without the dependencies every process shares, or a slow database would
 * take every process out of the pool at once, writes that do not need it included.
 */
export function opsRoutes (o: OpsOptions) {
  const timeoutMs = o.timeoutMs ?? 500
  return new Elysia({ name: 'ops' })
    .get('/healthz', () => ({ status: 'ok' }), { detail: { tags: ['ops'], summary: 'Liveness' } })
    .get('/readyz', async ({ set, request }) => {
      // A base for request lines without a Host header (HAProxy's HTTP/1.0 checks): the URL is relative then.
      const excluded = new Set(new URL(request.url, 'http://localhost').searchParams.getAll('exclude').flatMap(v => v.split(',')).filter(Boolean))
      const results: Record<string, boolean | 'excluded'> = {}
      await Promise.all(Object.entries(o.checks).map(async ([name, check]) => {
        results[name] = excluded.has(name) ? 'excluded' : await withTimeout(check, timeoutMs)
      }))
      const draining = o.draining()
      const ready = !draining && Object.values(results).every(r => r !== false)
      set.status = ready ? 200 : 503
      return { status: ready ? 'ready' : draining ? 'draining' : 'not-ready', checks: results }
    }, { detail: { tags: ['ops'], summary: 'Readiness (?exclude=name,… leaves checks out)' } })
    .get('/metrics', ({ set }) => {
      set.headers['content-type'] = contentType
      return o.registry.render()
    }, { detail: { tags: ['ops'], summary: 'Prometheus metrics' } })
}

async function withTimeout (check: Check, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      Promise.resolve().then(check).catch(() => false),
      new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), ms) })
    ])
  } finally {
    clearTimeout(timer)
  }
}
