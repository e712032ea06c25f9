/**
 * Idempotent provisioning of the topics and the table, from the same settings the roles read.
 * Run by the local stack before any role starts; `bun infra/provision.ts` runs it alone.
 */
import { Type } from '@sinclair/typebox'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'
import { loadEnvOrExit } from '../shared/config/env.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { ensureTable } from '../shared/dynamo/table.ts'
import { ensureTopics, topicSpecs } from '../shared/kafka/topics.ts'
import { createLogger, type Logger } from '../shared/log/logger.ts'

export const ProvisionSettings = Type.Object({ ...KafkaSettings, ...DynamoSettings, ...LogSettings })

export async function provision (env: Record<string, string | undefined>, log: Logger): Promise<void> {
  const s = loadEnvOrExit(ProvisionSettings, env)
  await ensureTopics(s.KAFKA_BROKERS.split(','), topicSpecs(s), log)
  const db = createDynamoClient(s)
  try {
    await ensureTable(db, s.TABLE_NAME, log)
  } finally {
    db.destroy()
  }
}

if (import.meta.main) {
  const log = createLogger('provision')
  await provision(process.env, log)
  log.info('provisioned')
}
