import { afterAll, describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { Elysia } from 'elysia'
import { ClientAddresses, clientAddress } from './client-address.ts'
import { serveApi } from './serve.ts'

// A tiny app behind the API's server: it counts the bodies it was handed and echoes the client address.
let handled = 0
const app = new Elysia()
  .post('/echo', async ({ request }) => { handled++; return { bytes: (await request.arrayBuffer()).byteLength, client: clientAddress(request) } })
  .get('/who', ({ request }) => ({ client: clientAddress(request) }))
const refused: string[] = []
const server = serveApi(r => app.handle(r), { port: 0, hostname: '127.0.0.1', maxBodyBytes: 1024, bodyReadTimeoutMs: 700, addresses: new ClientAddresses('127.0.0.1'), onRefused: c => refused.push(c) })
afterAll(() => server.stop(true))

/** A raw connection from `from`: sends `head`, then the body a byte every `everyMs` (0: at once); resolves with what came back. */
function slowRequest (head: string, body: string, everyMs: number, from = '127.0.0.1'): Promise<{ text: string, ms: number, closed: boolean }> {
  const t0 = performance.now()
  return new Promise(resolve => {
    const s: Socket = connect({ host: '127.0.0.1', port: server.port!, localAddress: from })
    let text = ''
    let i = 0
    const timer = setInterval(() => { if (everyMs > 0 && i < body.length && !s.destroyed) s.write(body[i++]!) }, Math.max(everyMs, 10))
    s.on('connect', () => s.write(everyMs > 0 ? head : head + body))
    s.on('data', d => { text += d.toString() })
    s.on('error', () => {})
    s.on('close', () => { clearInterval(timer); resolve({ text, ms: performance.now() - t0, closed: true }) })
    setTimeout(() => { clearInterval(timer); s.destroy() }, 5000)
  })
}

describe('the API server reads bodies before the app, with a deadline and a cap', () => {
  test('a body sent a byte at a time is cut with 408 at the deadline, and the app never runs', async () => {
    const before = handled
    const r = await slowRequest('POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', 'x'.repeat(100), 100)
    expect(r.text).toStartWith('HTTP/1.1 408')
    expect(r.text).toContain('"code":"request_timeout"')
    expect(r.ms).toBeGreaterThan(600)
    expect(r.ms).toBeLessThan(2500) // the deadline (700 ms), not the 10 s the body would take
    expect(handled).toBe(before)
    expect(refused).toContain('request_timeout')
  })

  test('many slow bodies at once do not delay a normal request', async () => {
    const slow = Array.from({ length: 50 }, () => slowRequest('POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n', 'x'.repeat(100), 200))
    await Bun.sleep(100)
    const t0 = performance.now()
    const ok = await fetch(`http://127.0.0.1:${server.port}/echo`, { method: 'POST', body: '{"a":1}' })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ bytes: 7 })
    expect(performance.now() - t0).toBeLessThan(300)
    expect((await Promise.all(slow)).every(r => r.text.startsWith('HTTP/1.1 408'))).toBe(true)
  })

  test('a body over the cap is 413, declared or chunked', async () => {
    const declared = await fetch(`http://127.0.0.1:${server.port}/echo`, { method: 'POST', body: 'x'.repeat(2000) })
    expect(declared.status).toBe(413)
    const chunked = await slowRequest('POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n', `800\r\n${'x'.repeat(2048)}\r\n0\r\n\r\n`, 0)
    expect(chunked.text).toMatch(/^HTTP\/1\.1 413/)
  })

  test('X-Forwarded-For names the client only when the peer is a trusted proxy; its last entry counts', async () => {
    const ask = async (from: string, xff?: string) => {
      const r = await slowRequest(`GET /who HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${xff ? `X-Forwarded-For: ${xff}\r\n` : ''}\r\n`, '', 10, from)
      return JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)).client
    }
    expect(await ask('127.0.0.1', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7') // from the proxy: what it appended
    expect(await ask('127.0.0.1')).toBe('127.0.0.1')
    expect(await ask('127.0.0.2', '203.0.113.7')).toBe('127.0.0.2') // not a proxy: its header is ignored
  })
})
