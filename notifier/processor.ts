import { idTime } from '../shared/domain/ids.ts'
import type { NotificationItem, SettingsItem } from '../shared/domain/items.ts'
import { notificationSk, userPk } from '../shared/domain/keys.ts'
import { notificationFromEvent } from '../shared/domain/notify.ts'
import type { Logger } from '../shared/log/logger.ts'
import { encodeNotification, type Notification } from '../shared/schemas/notification.ts'
import { decodeStatusEvent, type StatusChange, type StatusEvent } from '../shared/schemas/status-event.ts'
import type { DeadLetter } from './dead-letters.ts'
import { poisonLetter } from './dead-letters.ts'
import type { Dedupe } from './dedupe.ts'
import { renderMessage } from './messages.ts'
import type { NotifierMetrics } from './metrics.ts'
import { StoppingError, untilDone } from './retry.ts'
import type { WebhookJob } from './webhook-jobs.ts'

/** One record of the status topic, as the consumer hands it over. */
export interface StatusRecord {
  topic: string
  partition: number
  offset: bigint
  key: string
  value: Uint8Array | undefined
}

export type Outcome = 'notified' | 'duplicate' | 'ignored' | 'poison' | 'tombstone'

/** The I/O the processor needs; each a small seam (DynamoDB, Kafka, HTTP). */
export interface ProcessorDeps {
  settings(userId: string): Promise<SettingsItem | undefined>
  putNotification(item: NotificationItem): Promise<void>
  /** Publishes to the notifications topic (key: user id); resolves once Kafka has it. */
  publish(n: Notification): Promise<void>
  /** Writes the first attempt of a webhook to the webhook topic (key: user id); resolves once Kafka has it. */
  enqueueWebhook(job: WebhookJob): Promise<void>
  /** Writes a dead letter; resolves once Kafka has it. */
  deadLetter(key: string, letter: DeadLetter): Promise<void>
}

export interface ProcessorOptions {
  changes: ReadonlySet<StatusChange>
  ttlDays: number
  now?: () => number
}

/**
 * Handles one status record: decode (poison -> dead letter), filter the changes users hear of,
 * then the once-per-change sequence of dedupe.ts: claim, in-app, live, webhook, done. The webhook
 * step only hands the call to the webhook lane (webhook-worker.ts) through the webhook topic, so
 * a slow receiver never holds a slot of this lane: in-app and live never wait for webhooks.
 * Infrastructure failures are retried until they pass (never skipped: that would lose a
 * notification).
 * Rejects only with StoppingError (shutdown), leaving the record undone and its claim released.
 */
export class EventProcessor {
  constructor(
    private readonly deps: ProcessorDeps,
    private readonly dedupe: Dedupe,
    private readonly o: ProcessorOptions,
    private readonly metrics: NotifierMetrics,
    private readonly log: Logger,
  ) {}

  async process(r: StatusRecord, signal: AbortSignal): Promise<Outcome> {
    const outcome = await this.handle(r, signal)
    this.metrics.events.inc({ outcome })
    return outcome
  }

  private async handle(r: StatusRecord, signal: AbortSignal): Promise<Outcome> {
    const source = { topic: r.topic, partition: r.partition, offset: r.offset }
    if (!r.value || r.value.byteLength === 0) return 'tombstone'
    const decoded = decodeStatusEvent(r.value)
    if (!decoded.ok) {
      this.log.warn('notifier_poison', { ...source, offset: String(r.offset), reason: decoded.reason })
      await this.retry('dead_letter', signal, () => this.deps.deadLetter(r.key, poisonLetter(source, r.value, decoded.reason, this.now())))
      this.metrics.deadLetters.inc({ reason: 'poison' })
      return 'poison'
    }
    const event = decoded.event
    if (!this.o.changes.has(event.change)) return 'ignored'

    const ids = { userId: event.userId, reservationId: event.reservationId, seq: event.seq }
    const claim = await this.retry('claim', signal, () => this.dedupe.claim(ids, signal))
    if (claim.kind === 'duplicate') return 'duplicate'
    try {
      await this.deliver(event, claim.id, source, signal)
    } catch (error) {
      if (error instanceof StoppingError) await this.dedupe.release(ids).catch(() => {})
      throw error
    }
    const completed = await this.retry('complete', signal, () => this.dedupe.complete(ids))
    if (!completed) this.log.warn('notifier_complete_superseded', { reservationId: event.reservationId, seq: event.seq })
    this.metrics.delaySeconds.observe({}, Math.max(0, this.now() - event.acceptedAt) / 1000)
    this.log.debug('notifier_notified', { reservationId: event.reservationId, seq: event.seq, id: claim.id, resumed: claim.resumed })
    return 'notified'
  }

  private async deliver(event: StatusEvent, id: string, source: { topic: string; partition: number; offset: bigint }, signal: AbortSignal): Promise<void> {
    const settings = await this.retry('settings', signal, () => this.deps.settings(event.userId))
    const createdAt = idTime(id) ?? this.now()
    const message = renderMessage(event, { language: settings?.language, timeZone: settings?.timeZone })
    const n = notificationFromEvent(event, { id, createdAt, message })
    encodeNotification(n) // validates: a bad notification is a bug, better loud here than downstream
    const item: NotificationItem = {
      pk: userPk(event.userId),
      sk: notificationSk(id),
      entity: 'notification',
      ...n,
      expiresAt: Math.floor(createdAt / 1000) + this.o.ttlDays * 86_400,
    }
    await this.retry('in_app', signal, () => this.deps.putNotification(item))
    this.metrics.notifications.inc({ channel: 'in_app', outcome: 'ok' })
    await this.retry('live', signal, () => this.deps.publish(n))
    this.metrics.notifications.inc({ channel: 'live', outcome: 'ok' })
    if (!settings?.webhook) return
    await this.retry('webhook', signal, () => this.deps.enqueueWebhook({ v: 1, notification: n, attempt: 1, notBefore: this.now(), source: { ...source, offset: String(source.offset) } }))
  }

  private async retry<T>(step: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now()
    const result = await untilDone(step, fn, {
      signal,
      onError: (error, attempt) => {
        this.metrics.retries.inc({ step })
        this.log[attempt === 1 ? 'warn' : 'debug']('notifier_step_retry', { step, attempt, error: error as Error })
      },
    })
    this.metrics.stepSeconds.observe({ step }, (performance.now() - t0) / 1000)
    return result
  }

  private now(): number {
    return (this.o.now ?? Date.now)()
  }
}
