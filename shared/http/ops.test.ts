import { expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { Registry } from '../metrics/registry.ts'
import { opsRoutes } from './ops.ts'

function app (draining = false) {
  return opsRoutes({
    registry: new Registry(),
    draining: () => draining,
    timeoutMs: 50,
    checks: { local: () => true, db: () => new Promise<boolean>(() => {}), broker: async () => { throw new Error('down') } }
  })
}
const get = async (a: ReturnType<typeof app>, path: string) => {
  const r = await a.handle(new Request(`http://localhost${path}`))
  return { status: r.status, body: await r.json() }
}

test('readiness: every check must pass; one that hangs or throws counts as failed', async () => {
  expect(await get(app(), '/readyz')).toEqual({ status: 503, body: { status: 'not-ready', checks: { local: true, db: false, broker: false } } })
})

test('?exclude= leaves named checks out (comma-separated or repeated); draining still fails', async () => {
  const ok = { status: 200, body: { status: 'ready', checks: { local: true, db: 'excluded', broker: 'excluded' } } }
  expect(await get(app(), '/readyz?exclude=db,broker')).toEqual(ok)
  expect(await get(app(), '/readyz?exclude=db&exclude=broker')).toEqual(ok)
  expect((await get(app(), '/readyz?exclude=db')).status).toBe(503)
  expect(await get(app(true), '/readyz?exclude=db,broker')).toMatchObject({ status: 503, body: { status: 'draining' } })
})

test('a load balancer\'s HTTP/1.0 check without a Host header is answered (the request URL is relative then)', async () => {
  const server = new Elysia().use(app()).listen({ port: 0, hostname: '127.0.0.1' })
  try {
    const raw = (path: string) => new Promise<string>(resolve => {
      let out = ''
      void Bun.connect({
        hostname: '127.0.0.1',
        port: server.server!.port!,
        socket: { open (s) { s.write(`GET ${path} HTTP/1.0\r\n\r\n`) }, data (_s, d) { out += d.toString() }, close () { resolve(out) }, error () { resolve(out) } }
      })
    })
    expect((await raw('/readyz?exclude=db,broker')).split('\r\n')[0]).toBe('HTTP/1.1 200 OK')
    expect((await raw('/readyz')).split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable')
  } finally {
    server.stop()
  }
})
