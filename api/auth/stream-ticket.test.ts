import { describe, expect, test } from 'bun:test'
import { call, JWT_SECRET, testApp, token } from '../testing.ts'
import { StreamTickets } from './stream-ticket.ts'
import { verifyJwt } from './jwt.ts'

const nowS = 1_900_000_000

describe('StreamTickets', () => {
  const tickets = new StreamTickets({ derivedFrom: JWT_SECRET }, 300)

  test('a ticket names its user until it expires', () => {
    const { ticket, expiresAt } = tickets.issue('alice', nowS)
    expect(expiresAt).toBe(new Date((nowS + 300) * 1000).toISOString())
    expect(tickets.verify(ticket, nowS + 299)).toEqual({ ok: true, userId: 'alice', exp: nowS + 300 })
    expect(tickets.verify(ticket, nowS + 300)).toEqual({ ok: false, reason: 'ticket expired' })
  })

  test('tampered, foreign-key and malformed tickets are refused', () => {
    const { ticket } = tickets.issue('alice', nowS)
    const [, payload, sig] = ticket.split('.') as [string, string, string]
    const bob = Buffer.from(JSON.stringify({ sub: 'bob', exp: nowS + 300 })).toString('base64url')
    expect(tickets.verify(`st1.${bob}.${sig}`, nowS)).toEqual({ ok: false, reason: 'bad signature' })
    expect(new StreamTickets({ secret: 'another-key-of-at-least-32-characters!!' }, 300).verify(ticket, nowS)).toEqual({ ok: false, reason: 'bad signature' })
    expect(tickets.verify(`st1.${payload}`, nowS)).toEqual({ ok: false, reason: 'malformed ticket' })
    expect(tickets.verify('', nowS)).toEqual({ ok: false, reason: 'malformed ticket' })
  })

  test('a ticket is not a token and a token is not a ticket, even from the same secret', () => {
    const { ticket } = tickets.issue('alice', nowS)
    expect(verifyJwt(JWT_SECRET, ticket, nowS).ok).toBe(false)
    expect(tickets.verify(token('alice'), nowS).ok).toBe(false)
  })
})

describe('the notification stream with a ticket (EventSource)', () => {
  async function firstChunk (res: Response): Promise<string> {
    const reader = res.body!.getReader()
    const { value } = await reader.read()
    await reader.cancel()
    return new TextDecoder().decode(value)
  }

  test('POST stream-tickets with a bearer token; the ticket opens the stream without any header', async () => {
    const { app } = testApp()
    const t = await call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'alice' })
    expect(t.status).toBe(201)
    expect(t.json.ticket).toMatch(/^st1\./)
    const res = await app.handle(new Request(`http://localhost/v1/notifications/stream?ticket=${t.json.ticket}`))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    expect(await firstChunk(res)).toContain(': connected')
  })

  test('?lastEventId= stands for the Last-Event-ID header (a replay is attempted)', async () => {
    const { app } = testApp() // its DynamoDB answers nothing: the replay reports itself unavailable
    const t = await call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'alice' })
    const res = await app.handle(new Request(`http://localhost/v1/notifications/stream?ticket=${t.json.ticket}&lastEventId=01ARZ3NDEKTSV4RRFFQ69G5FAV`))
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('replay unavailable')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    await reader.cancel()
    expect(text).toContain(': replay unavailable')
  })

  test('a bad, expired or repeated ticket is 401; a ticket opens nothing but the stream', async () => {
    const { app } = testApp()
    const stale = new StreamTickets({ derivedFrom: JWT_SECRET }, 300).issue('alice', Math.floor(Date.now() / 1000) - 600).ticket
    for (const q of ['ticket=st1.abc.def', `ticket=${stale}`, 'ticket=a&ticket=b']) {
      const r = await call(app, 'GET', `/v1/notifications/stream?${q}`)
      expect({ q, status: r.status, code: r.json.error.code }).toEqual({ q, status: 401, code: 'unauthorized' })
    }
    const { ticket } = (await call(app, 'POST', '/v1/notifications/stream-tickets', { as: 'alice' })).json
    expect((await call(app, 'GET', `/v1/notifications?ticket=${ticket}`)).status).toBe(401)
    expect((await call(app, 'GET', '/v1/trips', { headers: { authorization: `Bearer ${ticket}` } })).status).toBe(401)
    expect((await call(app, 'POST', '/v1/notifications/stream-tickets', { headers: { authorization: `Bearer ${ticket}` } })).status).toBe(401)
  })
})
