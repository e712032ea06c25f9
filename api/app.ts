import { Elysia } from 'elysia'
import { type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { tableReachable } from '../shared/dynamo/health.ts'
import { opsRoutes } from '../shared/http/ops.ts'
import { type BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { type Logger } from '../shared/log/logger.ts'
import { Registry } from '../shared/metrics/registry.ts'

export interface ApiDeps {
  producer: BatchingProducer
  db: DynamoDBDocumentClient
  table: string
  log: Logger
  registry: Registry
  draining: () => boolean
}

/** The API: one Elysia instance per feature, composed here. */
export function createApp (d: ApiDeps) {
  return new Elysia()
    .use(opsRoutes({
      registry: d.registry,
      draining: d.draining,
      checks: { kafka: () => d.producer.isConnected(), dynamodb: tableReachable(d.db, d.table) }
    }))
}
