/**
 * Helpers of the notifier's integration tests (imported by *.integration.test.ts only): unique
 * topics and table, status events built with the real schema, a loopback webhook sink that checks
 * signatures, and readers of what the notifier wrote.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { Consumer, MessagesStreamModes } from '@platformatic/kafka'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { ensureTable } from '../shared/dynamo/table.ts'
import { newId } from '../shared/domain/ids.ts'
import type { NotificationItem, SettingsItem } from '../shared/domain/items.ts'
import { settingsSk, userPk } from '../shared/domain/keys.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { deadLetterTopic, ensureTopics, webhookTopic } from '../shared/kafka/topics.ts'
import type { Language } from '../shared/schemas/settings.ts'
import { encodeStatusEvent, type StatusEvent } from '../shared/schemas/status-event.ts'
import { loadEnv } from '../shared/config/env.ts'
import { brokers, stackEnv, uniq, waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { NotifierSettings } from './config.ts'
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './webhook.ts'

export const SECRET = 'test-webhook-secret-0123456789'

export interface TestEnv {
  settings: NotifierSettings
  env: Record<string, string>
  db: DynamoDBDocumentClient
  producer: BatchingProducer
  statusTopic: string
  notificationsTopic: string
  dlqTopic: string
  table: string
  close(): Promise<void>
}

/** Unique topics (status: 12 partitions), table and group; settings for a notifier on them. */
export async function testEnv(name: string, overrides: Record<string, string> = {}, statusConfigs: Record<string, string> = { 'cleanup.policy': 'compact' }): Promise<TestEnv> {
  const base = stackEnv()
  const statusTopic = uniq(`${name}-status`)
  const notificationsTopic = uniq(`${name}-notifications`)
  const dlqTopic = deadLetterTopic(statusTopic, 'notifier')
  const table = uniq(`${name}-table`)
  await ensureTopics(brokers(), [
    { name: statusTopic, partitions: 12, replicationFactor: 1, configs: statusConfigs },
    { name: notificationsTopic, partitions: 12, replicationFactor: 1, configs: {} },
    { name: webhookTopic(statusTopic), partitions: 12, replicationFactor: 1, configs: {} },
    { name: dlqTopic, partitions: 1, replicationFactor: 1, configs: {} },
  ], testLogger)
  const env: Record<string, string> = {
    KAFKA_BROKERS: base.KAFKA_BROKERS!,
    DYNAMODB_ENDPOINT: base.DYNAMODB_ENDPOINT!,
    AWS_REGION: base.AWS_REGION ?? 'eu-west-1',
    TABLE_NAME: table,
    TOPIC_STATUS: statusTopic,
    TOPIC_NOTIFICATIONS: notificationsTopic,
    NOTIFIER_GROUP_ID: uniq(`${name}-group`),
    WEBHOOK_GROUP_ID: uniq(`${name}-webhooks`),
    NOTIFIER_SESSION_TIMEOUT_MS: '6000',
    NOTIFIER_HEARTBEAT_MS: '500',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_RETRIES: '4',
    WEBHOOK_BACKOFF_MS: '20',
    WEBHOOK_BACKOFF_MAX_MS: '200',
    LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'warn',
    PORT: '0',
    ...overrides,
  }
  const settings = loadEnv(NotifierSettings, env)
  const db = createDynamoClient(settings)
  await ensureTable(db, table, testLogger)
  const producer = new BatchingProducer({ brokers: brokers(), clientId: `${name}-test`, lingerMs: 1, deadlineMs: 10_000 })
  // a topic just created can take a moment to show in metadata (the notifier's producer fails fast on an unknown one)
  await waitFor('the topics in metadata', () => producer.connect([statusTopic, notificationsTopic, webhookTopic(statusTopic), dlqTopic]).then(() => true, () => false), 15_000, 200)
  return {
    settings, env, db, producer, statusTopic, notificationsTopic, dlqTopic, table,
    async close() {
      await producer.close().catch(() => {})
      db.destroy()
    },
  }
}

let seqCounter = 1000
/** A valid status event (real schema); a fresh reservation unless one is given. */
export function statusEvent(over: Partial<StatusEvent> & { userId: string }): StatusEvent {
  const seq = over.seq ?? seqCounter++
  return {
    v: 1,
    reservationId: newId(),
    tripId: `unassigned-${over.userId}`,
    seq,
    change: 'cancelled',
    status: 'cancelled',
    current: { status: 'cancelled', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z', title: 'AF 123 Paris to Montreal', type: 'flight', places: [{ name: 'Paris CDG', code: 'CDG' }] },
    acceptedAt: Date.now(),
    commandId: newId(),
    emittedFor: seq,
    ...over,
  }
}

export function produceStatus(t: TestEnv, e: StatusEvent) {
  return t.producer.send(t.statusTopic, e.reservationId, encodeStatusEvent(e))
}

export async function putSettings(t: TestEnv, userId: string, s: { webhook?: { url: string; secret: string }; language?: Language; timeZone?: string }) {
  const item: SettingsItem = { pk: userPk(userId), sk: settingsSk(), entity: 'settings', userId, version: 1, lastOffset: 0, createdAt: 0, updatedAt: 0, ...s }
  await t.db.send(new PutCommand({ TableName: t.table, Item: item }))
}

export async function notificationsOf(t: TestEnv, userId: string): Promise<NotificationItem[]> {
  const out: NotificationItem[] = []
  let start: Record<string, unknown> | undefined
  do {
    const r = await t.db.send(new QueryCommand({ TableName: t.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': userPk(userId), ':p': 'NOTIF#' }, ExclusiveStartKey: start, ConsistentRead: true }))
    out.push(...((r.Items ?? []) as NotificationItem[]))
    start = r.LastEvaluatedKey
  } while (start)
  return out
}

export interface SinkCall { path: string; delivery: string; attempt: number; body: string; validSignature: boolean; at: number; ok: boolean }

/**
 * Webhook receiver on loopback. Paths: `/ok/...` answers 204; `/flaky/<n>/...` answers 503 to the
 * first n attempts of each delivery id, then 204; `/down/...` always 500; `/slow/<ms>/...` waits, then 204.
 */
export class WebhookSink {
  readonly calls: SinkCall[] = []
  private readonly attempts = new Map<string, number>()
  private server: ReturnType<typeof Bun.serve> | undefined

  start(): this {
    this.server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (req) => {
        const body = await req.text()
        const path = new URL(req.url).pathname
        const delivery = req.headers.get(DELIVERY_HEADER) ?? ''
        const seen = (this.attempts.get(`${path}|${delivery}`) ?? 0) + 1
        this.attempts.set(`${path}|${delivery}`, seen)
        const validSignature = verifyWebhookSignature(SECRET, body, { signature: req.headers.get(SIGNATURE_HEADER), timestamp: req.headers.get(TIMESTAMP_HEADER) })
        const [, mode, arg] = path.split('/')
        let status = 204
        if (mode === 'down') status = 500
        else if (mode === 'flaky' && seen <= Number(arg)) status = 503
        else if (mode === 'slow') await Bun.sleep(Number(arg))
        this.calls.push({ path, delivery, attempt: Number(req.headers.get('x-roadwarrior-attempt')), body, validSignature, at: Date.now(), ok: status < 300 })
        return new Response(null, { status })
      },
    })
    return this
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.server!.port}${path}`
  }

  delivered(pathPrefix = '/'): SinkCall[] {
    return this.calls.filter((c) => c.ok && c.path.startsWith(pathPrefix))
  }

  stop(): void {
    this.server?.stop(true)
  }
}

/** Every record of a topic from the beginning up to its end offsets now (a throw-away reader). */
export async function readAll(topic: string, timeoutMs = 20_000): Promise<Array<{ key: string; value: string; partition: number; offset: bigint }>> {
  const consumer = new Consumer({ groupId: uniq('read-all'), clientId: 'read-all', bootstrapBrokers: brokers(), maxWaitTime: 100, timeout: 5000, autocommit: false })
  const out: Array<{ key: string; value: string; partition: number; offset: bigint }> = []
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? []
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? []
    const remaining = new Set(ends.map((end, p) => (end > (starts[p] ?? 0n) ? p : -1)).filter((p) => p >= 0))
    if (remaining.size === 0) return out
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`readAll ${topic}: partitions ${[...remaining]} not read to the end in ${timeoutMs} ms`)), timeoutMs)
        stream.on('data', (m) => {
          out.push({ key: m.key?.toString() ?? '', value: m.value?.toString() ?? '', partition: m.partition, offset: m.offset })
          if (m.offset >= ends[m.partition]! - 1n) remaining.delete(m.partition)
          if (remaining.size === 0) { clearTimeout(timer); resolve() }
        })
        stream.on('error', (e) => { clearTimeout(timer); reject(e) })
      })
    } finally {
      await stream.close().catch(() => {})
    }
  } finally {
    await consumer.close(true).catch(() => {})
  }
  return out
}
