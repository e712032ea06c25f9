import { createHmac, timingSafeEqual } from 'node:crypto'
import { USER_ID_PATTERN } from '../../shared/schemas/ids.ts'

/**
 * Stream tickets: short-lived credentials that open the caller's notification stream and nothing
 * else, for clients that cannot set an Authorization header (a browser's EventSource). A ticket
 * goes in the URL (`?ticket=`), where proxies may log it, hence its short life and single purpose.
 *
 * Form: `st1.<base64url(JSON {sub, exp})>.<base64url(HMAC-SHA256(key, "st1.<payload>"))>`. It is
 * not a JWT (a JWT is refused as a ticket and a ticket as a bearer token). Every API process must
 * share the key: STREAM_TICKET_SECRET, or else a key derived from JWT_SECRET for this use only.
 */
export const TICKET_PATTERN = '^st1\\.[A-Za-z0-9_-]{1,400}\\.[A-Za-z0-9_-]{43}$'
const ticketRe = new RegExp(TICKET_PATTERN)
const userIdRe = new RegExp(USER_ID_PATTERN)

export type TicketResult = { ok: true, userId: string, exp: number } | { ok: false, reason: string }

export class StreamTickets {
  private readonly key: Buffer

  constructor (key: { secret: string } | { derivedFrom: string }, readonly ttlS: number) {
    this.key = 'secret' in key
      ? Buffer.from(key.secret)
      : createHmac('sha256', key.derivedFrom).update('road-warrior stream tickets v1').digest()
  }

  issue (userId: string, nowS = Math.floor(Date.now() / 1000)): { ticket: string, expiresAt: string } {
    const exp = nowS + this.ttlS
    const payload = Buffer.from(JSON.stringify({ sub: userId, exp })).toString('base64url')
    return { ticket: `st1.${payload}.${this.mac(payload).toString('base64url')}`, expiresAt: new Date(exp * 1000).toISOString() }
  }

  verify (ticket: string, nowS = Math.floor(Date.now() / 1000)): TicketResult {
    if (!ticketRe.test(ticket)) return { ok: false, reason: 'malformed ticket' }
    const [, payload, sig] = ticket.split('.') as [string, string, string]
    const given = Buffer.from(sig, 'base64url')
    const expected = this.mac(payload)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' }
    let claims: { sub?: unknown, exp?: unknown }
    try { claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) } catch { return { ok: false, reason: 'malformed ticket' } }
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) return { ok: false, reason: 'ticket expired' }
    if (typeof claims.sub !== 'string' || !userIdRe.test(claims.sub)) return { ok: false, reason: 'malformed ticket' }
    return { ok: true, userId: claims.sub, exp: claims.exp }
  }

  private mac (payload: string): Buffer {
    return createHmac('sha256', this.key).update(`st1.${payload}`).digest()
  }
}
