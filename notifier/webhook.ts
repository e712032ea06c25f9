import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Notification } from '../shared/schemas/notification.ts'
import type { Webhook } from '../shared/schemas/settings.ts'
import { backoffMs, sleep, StoppingError } from './retry.ts'
import { refusedWebhookTarget } from './webhook-target.ts'

/**
 * Webhook wire format (one POST per notification, to the URL in the user's settings):
 *
 *   POST <url>
 *   Content-Type: application/json
 *   User-Agent: RoadWarrior-Webhook/1
 *   X-RoadWarrior-Event: notification
 *   X-RoadWarrior-Delivery: <notification id>     same on every retry and replay: dedupe on it
 *   X-RoadWarrior-Attempt: <1, 2, ...>
 *   X-RoadWarrior-Timestamp: <unix seconds when this attempt was signed>
 *   X-RoadWarrior-Signature: sha256=<hex>
 *
 *   body: {"type":"notification","notification":<Notification JSON, shared/schemas/notification.ts>}
 *
 *   hex = lowercase hex of HMAC-SHA256(key = the user's webhook secret (UTF-8),
 *                                      message = "<timestamp>.<body bytes exactly as sent>")
 *
 * Signing the timestamp with the body stops a captured call from being replayed later with a new
 * timestamp: receivers recompute the HMAC, compare in constant time and refuse timestamps older
 * than a few minutes (verifyWebhookSignature below does all three).
 * A 2xx answer is a delivery. 408, 425, 429, 5xx, timeouts and network errors are retried with
 * exponential backoff and jitter; a Retry-After on the answer lengthens the wait up to the
 * backoff's maximum (a receiver cannot hold a partition longer). Any other answer (redirects
 * included: none are followed) is final. After the last try the notification goes to the
 * dead-letter topic with the reason.
 */

export const SIGNATURE_HEADER = 'x-roadwarrior-signature'
export const TIMESTAMP_HEADER = 'x-roadwarrior-timestamp'
export const DELIVERY_HEADER = 'x-roadwarrior-delivery'

export function webhookBody(notification: Notification): string {
  return JSON.stringify({ type: 'notification', notification })
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`
}

/** For receivers (and tests): signature valid and timestamp within `toleranceSec` of now. */
export function verifyWebhookSignature(secret: string, body: string, headers: { signature?: string | null; timestamp?: string | null }, nowSec = Math.floor(Date.now() / 1000), toleranceSec = 300): boolean {
  const ts = Number(headers.timestamp)
  if (!Number.isInteger(ts) || Math.abs(nowSec - ts) > toleranceSec) return false
  const m = /^sha256=([0-9a-f]{64})$/.exec(headers.signature?.trim() ?? '')
  if (!m) return false
  const expected = Buffer.from(signWebhook(secret, ts, body).slice(7), 'hex')
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected)
}

export interface WebhookOptions {
  timeoutMs: number
  retries: number
  backoffMs: number
  backoffMaxMs: number
  /** Calls in flight at once (a semaphore across all partitions). */
  concurrency: number
  allowHttp: boolean
  /** Deliver to hosts on loopback and private networks (local stack and tests only). */
  allowPrivateTargets: boolean
}

export type AttemptOutcome = { ok: true; status: number } | { ok: false; retry: boolean; reason: string; status?: number; retryAfterMs?: number }

export type DeliveryResult = { ok: true; attempts: number } | { ok: false; attempts: number; reason: string; status?: number }

export interface WebhookStats {
  onAttempt?(outcome: 'ok' | 'retry' | 'failed', seconds: number): void
}

/** What an HTTP answer means for the delivery. Pure. */
export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { ok: true, status }
  const retry = status === 408 || status === 425 || status === 429 || status >= 500
  return { ok: false, retry, status, reason: `HTTP ${status}` }
}

/** Retry-After (delay-seconds or an HTTP-date) in ms from `nowMs`; undefined when absent or unreadable. Pure. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  const v = value?.trim()
  if (!v) return undefined
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

export class WebhookSender {
  private active = 0
  private readonly queue: Array<() => void> = []

  constructor(
    private readonly o: WebhookOptions,
    private readonly stats: WebhookStats = {},
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /**
   * Delivers with retries. Resolves with the outcome (never rejects for an HTTP or network
   * failure); rejects with StoppingError if `signal` aborts between attempts.
   */
  async deliver(webhook: Webhook, notification: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
    if (!this.o.allowHttp && !webhook.url.startsWith('https://')) return { ok: false, attempts: 0, reason: 'webhook URL is not https' }
    const refused = await refusedWebhookTarget(webhook.url, this.o.allowPrivateTargets)
    if (refused) return { ok: false, attempts: 0, reason: refused }
    const body = webhookBody(notification)
    let last: AttemptOutcome = { ok: false, retry: true, reason: 'not attempted' }
    for (let attempt = 1; attempt <= this.o.retries + 1; attempt++) {
      if (attempt > 1) {
        const asked = last.ok ? undefined : last.retryAfterMs
        const wait = Math.max(backoffMs(attempt - 1, this.o.backoffMs, this.o.backoffMaxMs), Math.min(asked ?? 0, this.o.backoffMaxMs))
        await sleep(wait, signal, 'waiting to retry a webhook')
      }
      last = await this.limited(() => this.attempt(webhook, notification.id, body, attempt))
      if (last.ok) return { ok: true, attempts: attempt }
      if (!last.retry) return { ok: false, attempts: attempt, reason: last.reason, status: last.status }
      if (signal?.aborted) throw new StoppingError('delivering a webhook')
    }
    const failed = last as Extract<AttemptOutcome, { ok: false }>
    return { ok: false, attempts: this.o.retries + 1, reason: `gave up after ${this.o.retries + 1} attempts: ${failed.reason}`, status: failed.status }
  }

  private async attempt(webhook: Webhook, deliveryId: string, body: string, attempt: number): Promise<AttemptOutcome> {
    const timestamp = Math.floor(Date.now() / 1000)
    const t0 = performance.now()
    let outcome: AttemptOutcome
    try {
      const res = await this.fetchImpl(webhook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'RoadWarrior-Webhook/1',
          'x-roadwarrior-event': 'notification',
          [DELIVERY_HEADER]: deliveryId,
          'x-roadwarrior-attempt': String(attempt),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(webhook.secret, timestamp, body),
        },
      })
      await res.arrayBuffer().catch(() => undefined) // drain, so the connection can be reused
      outcome = classifyStatus(res.status)
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'))
      if (!outcome.ok && outcome.retry && retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs
    } catch (error) {
      const e = error as Error
      outcome = { ok: false, retry: true, reason: e.name === 'TimeoutError' ? `timed out after ${this.o.timeoutMs} ms` : `network error: ${e.message}` }
    }
    this.stats.onAttempt?.(outcome.ok ? 'ok' : outcome.retry ? 'retry' : 'failed', (performance.now() - t0) / 1000)
    return outcome
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.o.concurrency) await new Promise<void>((resolve) => this.queue.push(resolve))
    this.active++
    try {
      return await fn()
    } finally {
      this.active--
      this.queue.shift()?.()
    }
  }
}
