import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka'
import { type Logger } from '../log/logger.ts'

export interface TopicSpec {
  name: string
  partitions: number
  replicationFactor: number
  configs: Record<string, string>
}

export interface TopicSettings {
  TOPIC_COMMANDS: string
  TOPIC_STATUS: string
  TOPIC_NOTIFICATIONS: string
  COMMAND_PARTITIONS: number
  STATUS_PARTITIONS: number
  NOTIFICATION_PARTITIONS: number
  KAFKA_REPLICATION_FACTOR: number
  COMMAND_RETENTION_DAYS: number
}

const day = 86_400_000

/** Dead-letter topic of one consumer: `<source topic>.dlq.<consumer>` (key: the original key). */
export function deadLetterTopic (source: string, consumer: string): string {
  return `${source}.dlq.${consumer}`
}

/** Webhook attempts of the notifiers: `<status topic>.webhooks` (key: user id; notifier/webhook-jobs.ts). */
export function webhookTopic (status: string): string {
  return `${status}.webhooks`
}

/** The topics of DESIGN.md with their configs. */
export function topicSpecs (s: TopicSettings): TopicSpec[] {
  const rf = s.KAFKA_REPLICATION_FACTOR
  // With one replica there is nothing to be in sync with; in production acks=all waits for two.
  const minIsr = String(Math.min(2, rf))
  return [
    // LogAppendTime: a command's timestamp is when the broker appended it, which the updater checks
    // against the command's deadline (shared/kafka/expiry.ts: 503 means not written).
    { name: s.TOPIC_COMMANDS, partitions: s.COMMAND_PARTITIONS, replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(s.COMMAND_RETENTION_DAYS * day), 'min.insync.replicas': minIsr, 'message.timestamp.type': 'LogAppendTime' } },
    { name: s.TOPIC_STATUS, partitions: s.STATUS_PARTITIONS, replicationFactor: rf,
      configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': minIsr, 'min.cleanable.dirty.ratio': '0.5', 'segment.ms': String(day), 'delete.retention.ms': String(day) } },
    { name: s.TOPIC_NOTIFICATIONS, partitions: s.NOTIFICATION_PARTITIONS, replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(day), 'min.insync.replicas': minIsr } },
    { name: webhookTopic(s.TOPIC_STATUS), partitions: s.STATUS_PARTITIONS, replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * day), 'min.insync.replicas': minIsr } },
    { name: deadLetterTopic(s.TOPIC_COMMANDS, 'updater'), partitions: 1, replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * day), 'min.insync.replicas': minIsr } },
    { name: deadLetterTopic(s.TOPIC_STATUS, 'notifier'), partitions: 1, replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * day), 'min.insync.replicas': minIsr } }
  ]
}

/**
 * Creates missing topics and brings the configs of existing ones to the spec (idempotent).
 * A partition count that differs is reported, never changed: adding partitions would move users'
 * keys to other partitions and break per-user ordering.
 */
export async function ensureTopics (brokers: string[], specs: TopicSpec[], log: Logger): Promise<void> {
  const admin = new Admin({ clientId: 'provisioning', bootstrapBrokers: brokers, timeout: 10_000, retries: 5, retryDelay: 500 })
  try {
    const existing = new Set(await admin.listTopics())
    for (const spec of specs) {
      const configs = Object.entries(spec.configs).map(([name, value]) => ({ name, value }))
      if (!existing.has(spec.name)) {
        try {
          await admin.createTopics({ topics: [spec.name], partitions: spec.partitions, replicas: spec.replicationFactor, configs })
          log.info('kafka_topic_created', { topic: spec.name, partitions: spec.partitions, configs: spec.configs })
          continue
        } catch (err) {
          // Created meanwhile (another process, or metadata that lagged behind): bring its configs to the spec.
          if (!hasApiError(err, 'TOPIC_ALREADY_EXISTS')) throw err
        }
      }
      await admin.incrementalAlterConfigs({
        resources: [{
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: spec.name,
          configs: configs.map(c => ({ name: c.name, value: c.value, configOperation: IncrementalAlterConfigOperationTypes.SET }))
        }]
      })
      const meta = await admin.metadata({ topics: [spec.name] })
      const count = meta.topics.get(spec.name)?.partitionsCount
      if (count !== spec.partitions) log.warn('kafka_topic_partitions_differ', { topic: spec.name, expected: spec.partitions, actual: count })
    }
  } finally {
    await admin.close()
  }
}

function hasApiError (err: unknown, apiId: string): boolean {
  const e = err as { apiId?: string, errors?: unknown[] }
  return e?.apiId === apiId || (Array.isArray(e?.errors) && e.errors.some(inner => hasApiError(inner, apiId)))
}

/** The configs a topic really has on the broker (for checks and tests). */
export async function describeTopic (brokers: string[], topic: string): Promise<{ partitions: number, configs: Record<string, string> }> {
  const admin = new Admin({ clientId: 'provisioning', bootstrapBrokers: brokers, timeout: 10_000 })
  try {
    const meta = await admin.metadata({ topics: [topic] })
    const [desc] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }] })
    const configs: Record<string, string> = {}
    for (const c of desc?.configs ?? []) if (c.value != null) configs[c.name] = c.value
    return { partitions: meta.topics.get(topic)?.partitionsCount ?? 0, configs }
  } finally {
    await admin.close()
  }
}
