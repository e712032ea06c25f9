import { expect, test } from 'bun:test'
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
