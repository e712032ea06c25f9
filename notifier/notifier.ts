import { hostname } from 'node:os'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { newId } from '../shared/domain/ids.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { deadLetterTopic, webhookTopic } from '../shared/kafka/topics.ts'
import type { Logger } from '../shared/log/logger.ts'
import { encodeNotification } from '../shared/schemas/notification.ts'
import { notifiedChanges, type NotifierSettings } from './config.ts'
import { StatusConsumer } from './consumer.ts'
import type { DeadLetter } from './dead-letters.ts'
import { Dedupe } from './dedupe.ts'
import { notifierMetrics, type NotifierMetrics } from './metrics.ts'
import { EventProcessor } from './processor.ts'
import { NotifierStore } from './store.ts'
import { WebhookSender } from './webhook.ts'
import { encodeWebhookJob, type WebhookJob } from './webhook-jobs.ts'
import { WebhookWorker } from './webhook-worker.ts'

export interface Notifier {
  metrics: NotifierMetrics
  start(): Promise<void>
  /** Finishes deliveries in flight (up to finishMs), commits, leaves the group, closes the producer. */
  stop(finishMs: number): Promise<void>
  ready(): boolean
  /** The process's claim owner id (in dedupe records). */
  owner: string
}

/**
 * Wires one notifier: two lanes, each a consumer group.
 *   status lane:  status topic -> processor -> dedupe, in-app item (DynamoDB), live (notifications
 *                 topic), first webhook job (webhook topic), done
 *   webhook lane: webhook topic (key: user) -> worker -> one attempt -> next job or dead letter
 * A receiver, however slow, only ever holds its own user's key in the webhook lane.
 */
export function createNotifier(s: NotifierSettings, db: DynamoDBDocumentClient, log: Logger, metrics = notifierMetrics()): Notifier {
  const brokers = s.KAFKA_BROKERS.split(',')
  const dlq = deadLetterTopic(s.TOPIC_STATUS, 'notifier')
  const hooks = webhookTopic(s.TOPIC_STATUS)
  const owner = `${hostname()}:${process.pid}:${newId().slice(-8)}`
  const producer = new BatchingProducer({ brokers, clientId: `${s.KAFKA_CLIENT_ID}-notifier`, lingerMs: 1, deadlineMs: 5000 })
  const store = new NotifierStore(db, s.TABLE_NAME)
  const dedupe = new Dedupe(store, { owner, leaseMs: s.CLAIM_LEASE_MS, newId })
  const webhooks = new WebhookSender(
    { timeoutMs: s.WEBHOOK_TIMEOUT_MS, retries: s.WEBHOOK_RETRIES, backoffMs: s.WEBHOOK_BACKOFF_MS, backoffMaxMs: s.WEBHOOK_BACKOFF_MAX_MS, concurrency: s.WEBHOOK_CONCURRENCY, allowHttp: s.WEBHOOK_ALLOW_HTTP, allowPrivateTargets: s.WEBHOOK_ALLOW_PRIVATE_TARGETS },
    { onAttempt: (outcome, seconds) => metrics.webhookSeconds.observe({ outcome }, seconds) },
  )
  const enqueue = async (job: WebhookJob) => {
    await producer.send(hooks, job.notification.userId, encodeWebhookJob(job))
  }
  const deadLetter = async (key: string, letter: DeadLetter) => {
    await producer.send(dlq, key, JSON.stringify(letter))
  }
  const worker = new WebhookWorker(
    { settings: (userId) => store.settings(userId), attempt: (hook, job) => webhooks.attempt(hook, job.notification, job.attempt), enqueue, deadLetter },
    { retries: s.WEBHOOK_RETRIES, backoffMs: s.WEBHOOK_BACKOFF_MS, backoffMaxMs: s.WEBHOOK_BACKOFF_MAX_MS },
    metrics,
    log,
  )
  const processor = new EventProcessor(
    {
      settings: (userId) => store.settings(userId),
      putNotification: (item) => store.putNotification(item),
      publish: async (n) => {
        await producer.send(s.TOPIC_NOTIFICATIONS, n.userId, encodeNotification(n))
      },
      enqueueWebhook: enqueue,
      deadLetter,
    },
    dedupe,
    { changes: notifiedChanges(s.NOTIFIER_CHANGES), ttlDays: s.NOTIFICATION_TTL_DAYS },
    metrics,
    log,
  )
  const common = {
    brokers,
    clientId: `${s.KAFKA_CLIENT_ID}-notifier`,
    sessionTimeoutMs: s.NOTIFIER_SESSION_TIMEOUT_MS,
    heartbeatMs: s.NOTIFIER_HEARTBEAT_MS,
    maxWaitMs: s.NOTIFIER_MAX_WAIT_MS,
    commitIntervalMs: s.NOTIFIER_COMMIT_INTERVAL_MS,
  }
  const consumer = new StatusConsumer(
    { ...common, name: 'status', groupId: s.NOTIFIER_GROUP_ID, topic: s.TOPIC_STATUS, keysInFlight: s.NOTIFIER_KEYS_IN_FLIGHT, maxBuffered: s.NOTIFIER_MAX_BUFFERED },
    (r, signal) => processor.process(r, signal),
    metrics,
    log,
  )
  const webhookConsumer = new StatusConsumer(
    { ...common, name: 'webhooks', groupId: s.WEBHOOK_GROUP_ID, topic: hooks, keysInFlight: s.WEBHOOK_USERS_IN_FLIGHT, maxBuffered: s.WEBHOOK_MAX_BUFFERED },
    (r, signal) => worker.process(r, signal),
    metrics,
    log,
  )
  let started = false
  return {
    metrics,
    owner,
    async start() {
      await producer.connect([s.TOPIC_NOTIFICATIONS, hooks, dlq])
      await Promise.all([consumer.start(), webhookConsumer.start()])
      started = true
      log.info('notifier_started', { group: s.NOTIFIER_GROUP_ID, topic: s.TOPIC_STATUS, owner, webhookTopic: hooks, claimLeaseMs: s.CLAIM_LEASE_MS })
    },
    async stop(finishMs) {
      await Promise.all([consumer.stop(finishMs), webhookConsumer.stop(finishMs)])
      await producer.close()
      started = false
    },
    ready: () => started && consumer.ready() && webhookConsumer.ready() && producer.isConnected(),
  }
}
