import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * A webhook receiver on loopback for end-to-end tests: answers 204 and keeps every call as it came
 * (path, lower-case headers, raw body, arrival time), so a test checks the wire format itself.
 */
export interface ReceivedCall { path: string, headers: Record<string, string>, body: string, at: number }

export class WebhookReceiver {
  readonly calls: ReceivedCall[] = []
  private server: ReturnType<typeof Bun.serve> | undefined

  start (): this {
    this.server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async req => {
        const body = await req.text()
        const headers: Record<string, string> = {}
        req.headers.forEach((v, k) => { headers[k] = v })
        this.calls.push({ path: new URL(req.url).pathname, headers, body, at: Date.now() })
        return new Response(null, { status: 204 })
      }
    })
    return this
  }

  url (path: string): string {
    return `http://127.0.0.1:${this.server!.port}${path}`
  }

  stop (): void {
    this.server?.stop(true)
  }
}

/**
 * Checks a call's signature against the wire format documented in notifier/webhook.ts, written
 * here rather than calling the notifier's own check: `X-RoadWarrior-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
 * with `X-RoadWarrior-Timestamp` in unix seconds, within `toleranceS` of now.
 */
export function webhookSignatureValid (secret: string, call: ReceivedCall, toleranceS = 300): boolean {
  const ts = call.headers['x-roadwarrior-timestamp'] ?? ''
  const m = /^sha256=([0-9a-f]{64})$/.exec(call.headers['x-roadwarrior-signature'] ?? '')
  if (!/^\d{1,12}$/.test(ts) || !m || Math.abs(Date.now() / 1000 - Number(ts)) > toleranceS) return false
  const expected = createHmac('sha256', secret).update(`${ts}.${call.body}`).digest()
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected)
}
