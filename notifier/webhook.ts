import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Notification } from '../shared/schemas/notification.ts'
import type { Webhook } from '../shared/schemas/settings.ts'
import { backoffMs } from './retry.ts'
import { TargetRefused, webhookTarget, type Resolve } from './webhook-target.ts'

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
 * backoff's maximum. Any other answer (redirects included: none are followed) is final. After the
 * last try the notification goes to the dead-letter topic with the reason. Each attempt is one job
 * of the webhook topic (webhook-jobs.ts), so a retry waits outside every partition's lane.
 *
 * One attempt, bounded in time and memory whatever the receiver does:
 *   - one deadline (WEBHOOK_TIMEOUT_MS) covers the DNS lookup, connecting, TLS, the answer and
 *     reading it; the lookup is cancelled with the rest;
 *   - the call goes to the address that was checked (webhook-target.ts), with the Host header and
 *     the TLS server name (SNI, and the name the certificate must match) set to the URL's host;
 *   - Accept-Encoding: identity, automatic decompression off: at most WEBHOOK_MAX_RESPONSE_BYTES
 *     raw bytes of the answer are read, then the connection is dropped (a compressed "bomb" is
 *     never inflated); the status is what counts;
 *   - no connection reuse (keepalive off): a pooled connection could carry one host's name to
 *     another host's address.
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
  /** Certificate authorities (PEM) trusted for https receivers instead of the system's: tests only, no setting. */
  ca?: string
}

/** Raw bytes of an answer read at most (the status is what matters). */
export const MAX_RESPONSE_BYTES = 4096

export type AttemptOutcome = { ok: true; status: number } | { ok: false; retry: boolean; reason: string; status?: number; retryAfterMs?: number }

/** What follows an attempt: done (delivered or given up), another attempt after a wait, or a dead letter. */
export type NextStep = { kind: 'delivered' } | { kind: 'retry'; waitMs: number } | { kind: 'dead-letter'; reason: string; status?: number }

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

/**
 * After attempt number `attempt` (1 = first) ended with `outcome`: retry after the backoff
 * (lengthened by Retry-After, never past the maximum), or dead-letter once attempts run out. Pure.
 */
export function nextStep(outcome: AttemptOutcome, attempt: number, o: Pick<WebhookOptions, 'retries' | 'backoffMs' | 'backoffMaxMs'>, random: () => number = Math.random): NextStep {
  if (outcome.ok) return { kind: 'delivered' }
  if (!outcome.retry) return { kind: 'dead-letter', reason: outcome.reason, status: outcome.status }
  if (attempt >= o.retries + 1) return { kind: 'dead-letter', reason: `gave up after ${attempt} attempts: ${outcome.reason}`, status: outcome.status }
  const waitMs = Math.max(backoffMs(attempt, o.backoffMs, o.backoffMaxMs, random), Math.min(outcome.retryAfterMs ?? 0, o.backoffMaxMs))
  return { kind: 'retry', waitMs }
}

/**
 * Reads at most `max` bytes of a body, then cancels the rest; gives up when `signal` aborts.
 * Returns the bytes read (undecoded: the caller asked for no decompression).
 */
export async function readBounded(body: ReadableStream<Uint8Array> | null, max: number, signal: AbortSignal): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason ?? new Error('aborted'))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  aborted.catch(() => {})
  try {
    while (size < max) {
      const { done, value } = await Promise.race([reader.read(), aborted])
      if (done) break
      const room = max - size
      const part = value.byteLength > room ? value.subarray(0, room) : value
      chunks.push(part)
      size += part.byteLength
    }
  } finally {
    signal.removeEventListener('abort', onAbort!)
    reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks)
}

export class WebhookSender {
  private active = 0
  private readonly queue: Array<() => void> = []

  constructor(
    private readonly o: WebhookOptions,
    private readonly stats: WebhookStats = {},
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly resolve?: Resolve,
  ) {}

  /** Calls in flight now (for tests and metrics). */
  get inFlight(): number {
    return this.active
  }

  /**
   * One attempt (number `attempt`, sent as X-RoadWarrior-Attempt), waiting first for a slot among
   * WEBHOOK_CONCURRENCY. Never rejects for an HTTP, DNS or network failure: the outcome says whether to retry.
   */
  attempt(webhook: Webhook, notification: Notification, attempt: number): Promise<AttemptOutcome> {
    if (!this.o.allowHttp && !webhook.url.startsWith('https://')) return Promise.resolve({ ok: false, retry: false, reason: 'webhook URL is not https' })
    return this.limited(() => this.call(webhook, notification.id, webhookBody(notification), attempt))
  }

  private async call(webhook: Webhook, deliveryId: string, body: string, attempt: number): Promise<AttemptOutcome> {
    const t0 = performance.now()
    const deadline = AbortSignal.timeout(this.o.timeoutMs)
    let outcome: AttemptOutcome
    try {
      const target = await webhookTarget(webhook.url, { allowPrivate: this.o.allowPrivateTargets, signal: deadline, resolve: this.resolve })
      const pinned = new URL(target.url)
      const address = target.addresses[0]!
      pinned.hostname = address.includes(':') ? `[${address}]` : address
      const named = target.url.hostname !== address && target.url.hostname !== `[${address}]`
      const timestamp = Math.floor(Date.now() / 1000)
      const init: RequestInit & { decompress: boolean; tls?: { serverName?: string; ca?: string } } = {
        method: 'POST',
        body,
        redirect: 'manual',
        keepalive: false,
        decompress: false,
        signal: deadline,
        headers: {
          host: target.url.host,
          'accept-encoding': 'identity',
          'content-type': 'application/json',
          'user-agent': 'RoadWarrior-Webhook/1',
          'x-roadwarrior-event': 'notification',
          [DELIVERY_HEADER]: deliveryId,
          'x-roadwarrior-attempt': String(attempt),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(webhook.secret, timestamp, body),
        },
      }
      if (pinned.protocol === 'https:' && (named || this.o.ca)) init.tls = { ...(named ? { serverName: target.url.hostname } : {}), ...(this.o.ca ? { ca: this.o.ca } : {}) }
      const res = await this.fetchImpl(pinned, init)
      await readBounded(res.body, MAX_RESPONSE_BYTES, deadline)
      outcome = classifyStatus(res.status)
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'))
      if (!outcome.ok && outcome.retry && retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs
    } catch (error) {
      const e = error as Error
      if (e instanceof TargetRefused) outcome = { ok: false, retry: e.canRetry, reason: e.message }
      else if (deadline.aborted) outcome = { ok: false, retry: true, reason: `timed out after ${this.o.timeoutMs} ms` }
      else outcome = { ok: false, retry: true, reason: `network error: ${e.message}` }
    }
    this.stats.onAttempt?.(outcome.ok ? 'ok' : outcome.retry ? 'retry' : 'failed', (performance.now() - t0) / 1000)
    return outcome
  }

  /** A semaphore: a finished call hands its slot straight to the next waiter, so a newcomer cannot take it in between. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.o.concurrency) this.active++
    else await new Promise<void>((resolve) => this.queue.push(resolve))
    try {
      return await fn()
    } finally {
      const next = this.queue.shift()
      if (next) next()
      else this.active--
    }
  }
}
