import { hostname } from 'node:os'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { newId } from '../shared/domain/ids.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { deadLetterTopic } from '../shared/kafka/topics.ts'
import type { Logger } from '../shared/log/logger.ts'
import { encodeNotification } from '../shared/schemas/notification.ts'
import { claimLeaseMs, notifiedChanges, type NotifierSettings } from './config.ts'
import { StatusConsumer } from './consumer.ts'
import { Dedupe } from './dedupe.ts'
import { notifierMetrics, type NotifierMetrics } from './metrics.ts'
import { EventProcessor } from './processor.ts'
import { NotifierStore } from './store.ts'
import { WebhookSender } from './webhook.ts'

export interface Notifier {
  metrics: NotifierMetrics
  start(): Promise<void>
  /** Finishes deliveries in flight (up to finishMs), commits, leaves the group, closes the producer. */
  stop(finishMs: number): Promise<void>
  ready(): boolean
  /** The process's claim owner id (in dedupe records). */
  owner: string
}

/** Wires one notifier: status consumer -> processor -> DynamoDB, notifications topic, webhooks, dead letters. */
export function createNotifier(s: NotifierSettings, db: DynamoDBDocumentClient, log: Logger, metrics = notifierMetrics()): Notifier {
  const brokers = s.KAFKA_BROKERS.split(',')
  const dlq = deadLetterTopic(s.TOPIC_STATUS, 'notifier')
  const owner = `${hostname()}:${process.pid}:${newId().slice(-8)}`
  const producer = new BatchingProducer({ brokers, clientId: `${s.KAFKA_CLIENT_ID}-notifier`, lingerMs: 1, deadlineMs: 5000 })
  const store = new NotifierStore(db, s.TABLE_NAME)
  const dedupe = new Dedupe(store, { owner, leaseMs: claimLeaseMs(s), newId })
  const webhooks = new WebhookSender(
    { timeoutMs: s.WEBHOOK_TIMEOUT_MS, retries: s.WEBHOOK_RETRIES, backoffMs: s.WEBHOOK_BACKOFF_MS, backoffMaxMs: s.WEBHOOK_BACKOFF_MAX_MS, concurrency: s.WEBHOOK_CONCURRENCY, allowHttp: s.WEBHOOK_ALLOW_HTTP, allowPrivateTargets: s.WEBHOOK_ALLOW_PRIVATE_TARGETS },
    { onAttempt: (outcome, seconds) => metrics.webhookSeconds.observe({ outcome }, seconds) },
  )
  const processor = new EventProcessor(
    {
      settings: (userId) => store.settings(userId),
      putNotification: (item) => store.putNotification(item),
      publish: async (n) => {
        await producer.send(s.TOPIC_NOTIFICATIONS, n.userId, encodeNotification(n))
      },
      deliverWebhook: (hook, n, signal) => webhooks.deliver(hook, n, signal),
      deadLetter: async (key, letter) => {
        await producer.send(dlq, key, JSON.stringify(letter))
      },
    },
    dedupe,
    { changes: notifiedChanges(s.NOTIFIER_CHANGES), ttlDays: s.NOTIFICATION_TTL_DAYS },
    metrics,
    log,
  )
  const consumer = new StatusConsumer(
    {
      brokers,
      clientId: `${s.KAFKA_CLIENT_ID}-notifier`,
      groupId: s.NOTIFIER_GROUP_ID,
      topic: s.TOPIC_STATUS,
      sessionTimeoutMs: s.NOTIFIER_SESSION_TIMEOUT_MS,
      heartbeatMs: s.NOTIFIER_HEARTBEAT_MS,
      maxWaitMs: s.NOTIFIER_MAX_WAIT_MS,
      keysInFlight: s.NOTIFIER_KEYS_IN_FLIGHT,
      maxBuffered: s.NOTIFIER_MAX_BUFFERED,
      commitIntervalMs: s.NOTIFIER_COMMIT_INTERVAL_MS,
    },
    (r, signal) => processor.process(r, signal),
    metrics,
    log,
  )
  let started = false
  return {
    metrics,
    owner,
    async start() {
      await producer.connect([s.TOPIC_NOTIFICATIONS, dlq])
      await consumer.start()
      started = true
      log.info('notifier_started', { group: s.NOTIFIER_GROUP_ID, topic: s.TOPIC_STATUS, owner, claimLeaseMs: claimLeaseMs(s) })
    },
    async stop(finishMs) {
      await consumer.stop(finishMs)
      await producer.close()
      started = false
    },
    ready: () => started && consumer.ready() && producer.isConnected(),
  }
}
