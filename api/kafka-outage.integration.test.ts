import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { ensureTopics } from '../shared/kafka/topics.ts'
import { Registry } from '../shared/metrics/registry.ts'
import { brokerService, kafkaClasspath, newClusterId, prepareBroker } from '../infra/kafka/broker.ts'
import { Supervisor } from '../infra/stack/supervisor.ts'
import { freePort, stackEnv } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { createApp } from './app.ts'
import { call, quietLog, testSettings } from './testing.ts'

/**
 * 503 when Kafka is really stopped, and recovery when it returns, against a PRIVATE broker (its own
 * ports and folder), so the shared test broker is never touched.
 */
const env = stackEnv()
const dir = mkdtempSync(join(tmpdir(), 'rw-api-kafka-'))
const sup = new Supervisor(join(dir, 'logs'), testLogger)
const port = freePort()
// A cluster id starting with '-' (one random id in 64 does): the storage tool must still take it.
const broker = { dataDir: join(dir, 'kafka'), port, controllerPort: freePort(), heapMb: 256, mavenRepo: env.MAVEN_REPO!, extra: {}, clusterId: `-${newClusterId().slice(1)}` }
const topic = 'commands-outage'
let classpath = ''
let config = ''
let producer: BatchingProducer
const db = createDynamoClient({ DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT, AWS_REGION: 'local' })

beforeAll(async () => {
  classpath = await kafkaClasspath(resolve(env.MAVEN_REPO!), testLogger)
  config = await prepareBroker(broker, classpath, testLogger)
  await sup.start(brokerService(broker, classpath, config))
  await ensureTopics([`127.0.0.1:${port}`], [{ name: topic, partitions: 3, replicationFactor: 1, configs: {} }], testLogger)
  producer = new BatchingProducer({ brokers: [`127.0.0.1:${port}`], clientId: 'api-outage', deadlineMs: 1500, lingerMs: 1 })
  await producer.connect([topic])
}, 120_000)
afterAll(async () => {
  await producer?.close().catch(() => {})
  await sup.stopAll()
  db.destroy()
  rmSync(dir, { recursive: true, force: true })
}, 60_000)

test('Kafka stopped: 503 + Retry-After within the deadline, never 202, never a hang; back to 202 once it returns', async () => {
  const app = createApp({ producer, db, table: 'road-warrior', log: quietLog, registry: new Registry(), draining: () => false, settings: { ...testSettings, TOPIC_COMMANDS: topic, PRODUCE_DEADLINE_MS: 1500 } })
  const create = () => call(app, 'POST', '/v1/trips', { as: 'outage-user', body: { name: 'x' } })
  expect((await create()).status).toBe(202)

  await sup.stop('kafka')
  const t0 = performance.now()
  const down = await create()
  expect(down.status).toBe(503)
  expect(down.headers.get('retry-after')).toBe('1')
  expect(down.json.error.code).toBe('kafka_unavailable')
  expect(performance.now() - t0).toBeLessThan(2500)

  await sup.start(brokerService(broker, classpath, config))
  let status = 0
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    status = (await create()).status
    if (status === 202) break
    expect(status).toBe(503)
    await Bun.sleep(500)
  }
  expect(status).toBe(202)
}, 120_000)
