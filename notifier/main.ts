/** `bun run notifier`: one notifier process. Reads its settings from the environment (notifier/config.ts). */
import { Elysia } from 'elysia'
import { loadEnvOrExit } from '../shared/config/env.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { tableReachable } from '../shared/dynamo/health.ts'
import { listenOrExit } from '../shared/http/listen.ts'
import { opsRoutes } from '../shared/http/ops.ts'
import { kafkaReachable } from '../shared/kafka/health.ts'
import { deadLetterTopic, webhookTopic } from '../shared/kafka/topics.ts'
import { createLogger } from '../shared/log/logger.ts'
import { onShutdown } from '../shared/process/shutdown.ts'
import { notifiedChanges, NotifierSettings } from './config.ts'
import { notifierMetrics } from './metrics.ts'
import { createNotifier } from './notifier.ts'

const s = loadEnvOrExit(NotifierSettings)
const log = createLogger('notifier', s.LOG_LEVEL, { pid: process.pid })
try {
  notifiedChanges(s.NOTIFIER_CHANGES)
} catch (error) {
  log.fatal('config_invalid', { error: error as Error })
  process.exit(78)
}
const metrics = notifierMetrics()
const db = createDynamoClient(s)
const kafka = kafkaReachable(s.KAFKA_BROKERS.split(','), [s.TOPIC_STATUS, s.TOPIC_NOTIFICATIONS, webhookTopic(s.TOPIC_STATUS), deadLetterTopic(s.TOPIC_STATUS, 'notifier')])
const notifier = createNotifier(s, db, log, metrics)
let draining = false
const ops = new Elysia().use(
  opsRoutes({
    registry: metrics.registry,
    draining: () => draining,
    checks: { kafka: kafka.check, dynamodb: tableReachable(db, s.TABLE_NAME), consumer: () => notifier.ready() },
  }),
)
listenOrExit(() => ops.listen({ port: s.PORT, hostname: s.HOST }), { host: s.HOST, port: s.PORT }, log)
log.info('notifier_listening', { port: ops.server?.port })

// Deliveries in flight get most of the grace period; the rest is for the commit and closing.
onShutdown(log, s.SHUTDOWN_GRACE_MS, [
  ['drain', () => { draining = true }],
  ['notifier', () => notifier.stop(Math.max(500, s.SHUTDOWN_GRACE_MS - 5000))],
  ['ops', async () => { await ops.stop() }],
  ['kafka', () => kafka.close()],
  ['dynamodb', () => db.destroy()],
])

try {
  await notifier.start()
} catch (error) {
  log.fatal('notifier_start_failed', { error: error as Error })
  process.exit(1)
}
