/** `bun run updater`: one updater process. Reads its settings from the environment (updater/config.ts). */
import { Elysia } from 'elysia'
import { loadEnvOrExit } from '../shared/config/env.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { tableReachable } from '../shared/dynamo/health.ts'
import { opsRoutes } from '../shared/http/ops.ts'
import { kafkaReachable } from '../shared/kafka/health.ts'
import { createLogger } from '../shared/log/logger.ts'
import { Registry } from '../shared/metrics/registry.ts'
import { onShutdown } from '../shared/process/shutdown.ts'
import { UpdaterSettings } from './config.ts'

const s = loadEnvOrExit(UpdaterSettings)
const log = createLogger('updater', s.LOG_LEVEL, { pid: process.pid })
const registry = new Registry()
const db = createDynamoClient(s)
const kafka = kafkaReachable(s.KAFKA_BROKERS.split(','), [s.TOPIC_COMMANDS, s.TOPIC_STATUS])
let draining = false
const ops = new Elysia().use(opsRoutes({ registry, draining: () => draining, checks: { kafka: kafka.check, dynamodb: tableReachable(db, s.TABLE_NAME) } }))
ops.listen({ port: s.PORT, hostname: s.HOST })
log.info('updater_listening', { port: s.PORT })

onShutdown(log, s.SHUTDOWN_GRACE_MS, [
  ['drain', () => { draining = true }],
  ['ops', async () => { await ops.stop() }],
  ['kafka', () => kafka.close()],
  ['dynamodb', () => db.destroy()]
])
