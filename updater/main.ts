/** `bun run updater`: one updater process. Reads its settings from the environment (updater/config.ts). */
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { Elysia } from 'elysia'
import { loadEnvOrExit } from '../shared/config/env.ts'
import { tableReachable } from '../shared/dynamo/health.ts'
import { listenOrExit } from '../shared/http/listen.ts'
import { opsRoutes } from '../shared/http/ops.ts'
import { kafkaReachable } from '../shared/kafka/health.ts'
import { createLogger } from '../shared/log/logger.ts'
import { onShutdown } from '../shared/process/shutdown.ts'
import { UpdaterSettings } from './config.ts'
import { Updater } from './updater.ts'
import { OwnershipError } from './partitions.ts'

const s = loadEnvOrExit(UpdaterSettings)
const log = createLogger('updater', s.LOG_LEVEL, { pid: process.pid })
// The fold's reads and writes retry in DynamoIo (backoff + jitter, then the partition stalls): SDK retries off.
const dataDb = createDynamoClient(s, { requestTimeoutMs: s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS, maxAttempts: 1, maxSockets: Math.max(16, s.UPDATER_WRITE_CONCURRENCY * 2) })
// Leases and the ended-trips task: one attempt each, bounded; the next renewal or tick is the retry.
const controlDb = createDynamoClient(s, { requestTimeoutMs: s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS, maxAttempts: 1 })
const updater = new Updater(s, { log, dataDb, controlDb })
const kafka = kafkaReachable(s.KAFKA_BROKERS.split(','), [s.TOPIC_COMMANDS, s.TOPIC_STATUS])
let draining = false
const ops = new Elysia()
  .use(opsRoutes({
    registry: updater.metrics.registry,
    draining: () => draining,
    checks: { kafka: kafka.check, dynamodb: tableReachable(controlDb, s.TABLE_NAME), partitions: () => updater.ready() }
  }))
  .get('/partitions', () => ({ owner: updater.owner, partitions: updater.states() }))
listenOrExit(() => ops.listen({ port: s.PORT, hostname: s.HOST }), { host: s.HOST, port: s.PORT }, log)
log.info('updater_listening', { port: s.PORT })

onShutdown(log, s.SHUTDOWN_GRACE_MS, [
  ['drain', () => { draining = true }],
  ['updater', () => updater.stop()],
  ['ops', async () => { await ops.stop() }],
  ['kafka', () => kafka.close()],
  ['dynamodb', () => { dataDb.destroy(); controlDb.destroy() }]
])

// Kafka can answer a metadata request without a topic it has (a broker still loading, a leader
// moving): start-up failures other than a wrong ownership setting are retried, not fatal.
for (let attempt = 0; ; attempt++) {
  try {
    await updater.start()
    break
  } catch (err) {
    if (err instanceof OwnershipError) {
      log.fatal('updater_start_failed', { error: err })
      process.exit(78)
    }
    const delayMs = Math.min(15_000, 500 * 2 ** Math.min(attempt, 5))
    log.warn('updater_start_retry', { attempt: attempt + 1, delayMs, error: err as Error })
    await Bun.sleep(delayMs)
  }
}
