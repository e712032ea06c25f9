import { Type, type Static } from '@sinclair/typebox'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'
import { STATUS_CHANGES, type StatusChange } from '../shared/schemas/status-event.ts'

/**
 * Settings of one notifier process (environment variables, defaults beside each).
 * Webhook budget: one delivery takes at most
 *   (WEBHOOK_RETRIES + 1) x WEBHOOK_TIMEOUT_MS + the backoffs (each <= WEBHOOK_BACKOFF_MAX_MS)
 * plus the time its jobs wait behind the same user's other jobs; it runs in the webhook lane, not
 * under the dedupe claim. The claim (CLAIM_LEASE_MS) covers the status lane's steps only (claim,
 * in-app, live, hand-over to the webhook topic, done): a claim that lapses while its notifier still
 * works lets a second one redo those steps with the same id (same in-app item, same delivery id).
 */
export const NotifierSettings = Type.Object({
  ...KafkaSettings,
  ...DynamoSettings,
  ...LogSettings,
  PORT: Type.Integer({ default: 3100, minimum: 0, maximum: 65535, description: 'health, readiness and metrics port on HOST (0: any free port)' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address to listen on' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 20_000, minimum: 1000, maximum: 120_000, description: 'longest a SIGTERM shutdown may take' }),
  NOTIFIER_GROUP_ID: Type.String({ default: 'notifier', minLength: 1, maxLength: 200, description: 'consumer group of the notifiers on the status topic' }),
  NOTIFIER_SESSION_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 6000, maximum: 300_000, description: 'group session timeout: how soon a dead notifier’s partitions move' }),
  NOTIFIER_HEARTBEAT_MS: Type.Integer({ default: 1000, minimum: 100, maximum: 60_000, description: 'consumer group heartbeat interval' }),
  NOTIFIER_MAX_WAIT_MS: Type.Integer({ default: 100, minimum: 1, maximum: 10_000, description: 'longest a fetch waits for new records' }),
  NOTIFIER_KEYS_IN_FLIGHT: Type.Integer({ default: 16, minimum: 1, maximum: 1000, description: 'reservations processed at once per partition (1: strictly in partition order)' }),
  NOTIFIER_MAX_BUFFERED: Type.Integer({ default: 2000, minimum: 1, maximum: 1_000_000, description: 'records read but not done before reading pauses' }),
  NOTIFIER_COMMIT_INTERVAL_MS: Type.Integer({ default: 200, minimum: 10, maximum: 60_000, description: 'how often finished offsets are committed' }),
  NOTIFIER_CHANGES: Type.String({ default: 'cancelled,rescheduled,updated,reinstated,rejected', description: `comma-separated changes users hear of, among ${STATUS_CHANGES.join(', ')}` }),
  NOTIFICATION_TTL_DAYS: Type.Integer({ default: 90, minimum: 1, maximum: 3650, description: 'in-app notifications expire after this (expiresAt)' }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 60_000, description: 'per attempt: DNS lookup, connecting, TLS, the answer and reading it (at most 4 KB)' }),
  WEBHOOK_RETRIES: Type.Integer({ default: 4, minimum: 0, maximum: 20, description: 'attempts after the first, then a dead letter' }),
  WEBHOOK_BACKOFF_MS: Type.Integer({ default: 250, minimum: 1, maximum: 60_000, description: 'first retry delay; doubles each retry, with full jitter' }),
  WEBHOOK_BACKOFF_MAX_MS: Type.Integer({ default: 5000, minimum: 1, maximum: 300_000, description: 'largest webhook retry delay' }),
  WEBHOOK_CONCURRENCY: Type.Integer({ default: 256, minimum: 1, maximum: 10_000, description: 'webhook calls in flight per process (each user has at most one)' }),
  WEBHOOK_GROUP_ID: Type.String({ default: 'notifier-webhooks', minLength: 1, maxLength: 200, description: 'consumer group of the notifiers on the webhook topic (its own progress: a new NOTIFIER_GROUP_ID does not replay webhooks)' }),
  WEBHOOK_USERS_IN_FLIGHT: Type.Integer({ default: 64, minimum: 1, maximum: 1000, description: 'users whose webhook jobs run at once per partition of the webhook topic (one job each)' }),
  WEBHOOK_MAX_BUFFERED: Type.Integer({ default: 10_000, minimum: 1, maximum: 1_000_000, description: 'webhook jobs read but not done before reading the webhook topic pauses' }),
  WEBHOOK_ALLOW_HTTP: Type.Boolean({ default: false, description: 'allow http:// webhook URLs (local and tests; production wants https)' }),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: Type.Boolean({ default: false, description: 'allow webhook hosts that resolve to loopback or private addresses (local and tests; refused in production against SSRF)' }),
  CLAIM_LEASE_MS: Type.Integer({ default: 30_000, minimum: 1000, maximum: 3_600_000, description: 'how long a dedupe claim holds: longer than a status record takes (webhooks not included)' }),
})
export type NotifierSettings = Static<typeof NotifierSettings>

/** Upper bound of one webhook delivery, retries and backoffs included. */
export function webhookBudgetMs(s: Pick<NotifierSettings, 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_RETRIES' | 'WEBHOOK_BACKOFF_MAX_MS'>): number {
  return (s.WEBHOOK_RETRIES + 1) * s.WEBHOOK_TIMEOUT_MS + s.WEBHOOK_RETRIES * s.WEBHOOK_BACKOFF_MAX_MS
}

/** The set of changes to notify; throws naming an unknown one. */
export function notifiedChanges(list: string): Set<StatusChange> {
  const out = new Set<StatusChange>()
  for (const raw of list.split(',')) {
    const c = raw.trim()
    if (!c) continue
    if (!(STATUS_CHANGES as readonly string[]).includes(c)) throw new Error(`NOTIFIER_CHANGES: unknown change "${c}" (known: ${STATUS_CHANGES.join(', ')})`)
    out.add(c as StatusChange)
  }
  return out
}
