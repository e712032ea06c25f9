import type { SettingsItem } from '../shared/domain/items.ts'
import type { Logger } from '../shared/log/logger.ts'
import type { DeadLetter } from './dead-letters.ts'
import { poisonLetter, webhookLetter } from './dead-letters.ts'
import type { NotifierMetrics } from './metrics.ts'
import type { StatusRecord } from './processor.ts'
import { sleep, untilDone } from './retry.ts'
import { nextStep, type AttemptOutcome, type WebhookOptions } from './webhook.ts'
import { decodeWebhookJob, type WebhookJob } from './webhook-jobs.ts'

export type JobOutcome = 'delivered' | 'retry' | 'dead_letter' | 'dropped' | 'poison'

export interface WebhookWorkerDeps {
  settings(userId: string): Promise<SettingsItem | undefined>
  attempt(webhook: NonNullable<SettingsItem['webhook']>, job: WebhookJob): Promise<AttemptOutcome>
  /** Writes a job to the webhook topic (key: the user id); resolves once Kafka has it. */
  enqueue(job: WebhookJob): Promise<void>
  deadLetter(key: string, letter: DeadLetter): Promise<void>
}

/**
 * The webhook lane: handles one job of the webhook topic (webhook-jobs.ts), i.e. exactly one
 * attempt. The topic is keyed by user, and the consumer runs one job per key at a time, so a user
 * has at most one call in flight per process and a slow or hostile receiver holds only its own
 * jobs: a job takes at most WEBHOOK_BACKOFF_MAX_MS (its notBefore) + WEBHOOK_TIMEOUT_MS, and other
 * users' keys run beside it. A retry is the next job, written before this one is done (so the
 * commit never passes an attempt that has no successor); the last failure is a dead letter.
 * A crash replays the jobs after the last commit: an attempt can be made twice (same delivery id),
 * never lost.
 */
export class WebhookWorker {
  constructor(
    private readonly deps: WebhookWorkerDeps,
    private readonly o: Pick<WebhookOptions, 'retries' | 'backoffMs' | 'backoffMaxMs'>,
    private readonly metrics: NotifierMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async process(r: StatusRecord, signal: AbortSignal): Promise<JobOutcome> {
    const outcome = await this.handle(r, signal)
    this.metrics.webhookJobs.inc({ outcome })
    return outcome
  }

  private async handle(r: StatusRecord, signal: AbortSignal): Promise<JobOutcome> {
    const source = { topic: r.topic, partition: r.partition, offset: r.offset }
    const decoded = r.value && r.value.byteLength > 0 ? decodeWebhookJob(r.value) : { ok: false as const, reason: 'empty webhook job' }
    if (!decoded.ok) {
      this.log.warn('notifier_webhook_job_poison', { ...source, offset: String(r.offset), reason: decoded.reason })
      await this.retry('dead_letter', signal, () => this.deps.deadLetter(r.key, poisonLetter(source, r.value, decoded.reason, this.now())))
      this.metrics.deadLetters.inc({ reason: 'poison' })
      return 'poison'
    }
    const job = decoded.value
    const n = job.notification
    // A retry's wait happens here, on this user's key only; never longer than the backoff maximum.
    const wait = Math.min(job.notBefore - this.now(), this.o.backoffMaxMs)
    if (wait > 0) await sleep(wait, signal, 'waiting to retry a webhook')
    const settings = await this.retry('settings', signal, () => this.deps.settings(n.userId))
    const webhook = settings?.webhook
    if (!webhook) {
      this.log.info('notifier_webhook_dropped', { id: n.id, attempt: job.attempt, reason: 'the user has no webhook any more' })
      return 'dropped'
    }
    const outcome = await this.deps.attempt(webhook, job)
    const step = nextStep(outcome, job.attempt, this.o)
    if (step.kind === 'delivered') {
      this.metrics.notifications.inc({ channel: 'webhook', outcome: 'ok' })
      return 'delivered'
    }
    if (step.kind === 'retry') {
      const reason = (outcome as Extract<AttemptOutcome, { ok: false }>).reason.slice(0, 1000)
      const next: WebhookJob = { ...job, attempt: job.attempt + 1, notBefore: this.now() + step.waitMs, lastReason: reason }
      await this.retry('webhook_enqueue', signal, () => this.deps.enqueue(next))
      return 'retry'
    }
    this.log.warn('notifier_webhook_dead_letter', { reservationId: n.reservationId, id: n.id, reason: step.reason, attempts: job.attempt })
    const letter = webhookLetter({ ...job.source, offset: BigInt(job.source.offset) }, n, webhook.url, { reason: step.reason, attempts: job.attempt, status: step.status }, this.now())
    await this.retry('dead_letter', signal, () => this.deps.deadLetter(n.reservationId, letter))
    this.metrics.notifications.inc({ channel: 'webhook', outcome: 'dead_letter' })
    this.metrics.deadLetters.inc({ reason: 'webhook' })
    return 'dead_letter'
  }

  private retry<T>(step: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return untilDone(step, fn, {
      signal,
      onError: (error, attempt) => {
        this.metrics.retries.inc({ step })
        this.log[attempt === 1 ? 'warn' : 'debug']('notifier_step_retry', { step, attempt, error: error as Error })
      },
    })
  }
}
