import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { bearer, JWT_SECRET } from '../../api/black-box-support.ts'
import { createDynamoClient } from '../../shared/dynamo/client.ts'
import { ensureTable } from '../../shared/dynamo/table.ts'
import { ensureTopics } from '../../shared/kafka/topics.ts'
import { freePort, stackEnv, waitFor } from '../../test/support/stack.ts'
import { testLogger } from '../../test/support/logger.ts'
import { dynaliteService } from '../dynalite/service.ts'
import { brokerService, kafkaClasspath, newClusterId, prepareBroker } from '../kafka/broker.ts'
import { roleService } from '../stack/stack.ts'
import { Supervisor } from '../stack/supervisor.ts'
import { API_POOL_CHECK } from './config.ts'
import { haproxyService } from './service.ts'

/**
 * The pool rule (API_POOL_CHECK): a dependency every API process shares going down must not empty
 * HAProxy's pool. Two API processes on a PRIVATE broker and a PRIVATE dynalite (the shared test
 * stack is never touched) behind HAProxy with the stack's own health check; each dependency is
 * really stopped in turn, and the requests that do not need it still answer through HAProxy,
 * while those that do get the API's own 503 with Retry-After (HAProxy's "no server is available"
 * 503 is HTML and has no Retry-After).
 */
const env = stackEnv()
const dir = mkdtempSync(join(tmpdir(), 'haproxy-pool-'))
const sup = new Supervisor(join(dir, 'logs'), testLogger)
const kafkaPort = freePort()
const broker = { dataDir: join(dir, 'kafka'), port: kafkaPort, controllerPort: freePort(), heapMb: 256, mavenRepo: env.MAVEN_REPO!, extra: {}, clusterId: newClusterId() }
const dynamoPort = freePort()
const dynamo = dynaliteService(dynamoPort, join(dir, 'dynamo'))
const apiPorts = [freePort(), freePort()]
const port = freePort()
const statsPort = freePort()
const url = `http://127.0.0.1:${port}`
const table = 'pool'
const topics = { commands: 'pool-commands', notifications: 'pool-notifications' }

beforeAll(async () => {
  const classpath = await kafkaClasspath(resolve(env.MAVEN_REPO!), testLogger)
  const config = await prepareBroker(broker, classpath, testLogger)
  await Promise.all([sup.start(brokerService(broker, classpath, config)), sup.start(dynamo)])
  await ensureTopics([`127.0.0.1:${kafkaPort}`], [
    { name: topics.commands, partitions: 1, replicationFactor: 1, configs: {} },
    { name: topics.notifications, partitions: 1, replicationFactor: 1, configs: {} }
  ], testLogger)
  const db = createDynamoClient({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`, AWS_REGION: 'local' })
  try { await ensureTable(db, table, testLogger) } finally { db.destroy() }
  const roleEnv = {
    ...env,
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`, DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`, TABLE_NAME: table,
    TOPIC_COMMANDS: topics.commands, TOPIC_NOTIFICATIONS: topics.notifications, JWT_SECRET,
    PRODUCE_DEADLINE_MS: '1500', SHUTDOWN_GRACE_MS: '5000', DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn'
  }
  // Restartable, as in the stack: a broker just started can refuse an API's first connection.
  await Promise.all(apiPorts.map((p, i) => sup.start(roleService({ name: `api-${i + 1}`, script: 'api/main.ts', port: p, env: roleEnv }))))
  await sup.start(haproxyService({ port, statsPort, backends: apiPorts, healthPath: API_POOL_CHECK }, dir, 'haproxy-pool'))
  await waitFor('both servers UP', async () => (await serverStates()).every(s => s === 'UP'))
}, 180_000)
afterAll(async () => { await sup.stopAll(); rmSync(dir, { recursive: true, force: true }) }, 60_000)

/** HAProxy's view of the two API processes (UP, DOWN, ...). */
async function serverStates (): Promise<string[]> {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/;csv`)).text()
  const [header, ...rows] = csv.trim().split('\n')
  const cols = header!.replace(/^# /, '').split(',')
  return rows.map(r => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])))
    .filter(r => r.pxname === 'api_processes' && r.svname?.startsWith('api-')).map(r => r.status!)
}

/** Health checks the process answered 200 so far (HAProxy's are the only 200s of /readyz here). */
async function checksPassed (apiPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text()
  const m = /api_http_requests_total\{method="GET",route="\/readyz",status="200"\} (\d+)/.exec(text)
  return Number(m?.[1] ?? 0)
}

/**
 * Waits until each process says it is not ready (its full readiness sees the dependency down, so a
 * check of plain /readyz would take it out) and HAProxy has since checked it three more times
 * (fall 2): past that point, a pool emptied by the outage would show.
 */
async function outageSeenByHaproxy (dependency: string): Promise<void> {
  for (const p of apiPorts) {
    await waitFor(`api :${p} unready for ${dependency}`, async () => {
      const r = await fetch(`http://127.0.0.1:${p}/readyz`)
      return r.status === 503 && ((await r.json()) as { checks: Record<string, unknown> }).checks[dependency] === false
    }, 20_000, 100)
  }
  const before = await Promise.all(apiPorts.map(checksPassed))
  await waitFor('three more pool checks of each process', async () => (await Promise.all(apiPorts.map(checksPassed))).every((n, i) => n >= before[i]! + 3), 10_000, 100)
}

const request = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(url + path, { method, headers: { authorization: bearer('pool-user'), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = { text } }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: json?.error?.code as string | undefined }
}
const read = () => request('GET', '/v1/trips')
const write = () => request('PUT', '/v1/me/settings', { language: 'fr' })

describe('HAProxy keeps the API processes in the pool while a shared dependency is down', () => {
  test('both up: reads 200, writes 202', async () => {
    expect(await read()).toMatchObject({ status: 200 })
    expect(await write()).toMatchObject({ status: 202 })
  })

  test('DynamoDB down: writes that need only Kafka still 202; reads are the API\'s 503 with Retry-After; both processes stay UP', async () => {
    await sup.stop('dynalite')
    try {
      await outageSeenByHaproxy('dynamodb')
      expect(await serverStates()).toEqual(['UP', 'UP'])
      for (let i = 0; i < 4; i++) {
        expect(await write()).toMatchObject({ status: 202 })
        expect(await read()).toEqual({ status: 503, retryAfter: '1', code: 'dynamodb_unavailable' })
      }
    } finally {
      await sup.start(dynamo)
    }
    await waitFor('reads again', async () => (await read()).status === 200, 20_000, 200)
  }, 60_000)

  test('Kafka down: reads that need only DynamoDB still 200; writes are the API\'s 503 with Retry-After; both processes stay UP', async () => {
    await sup.stop('kafka')
    await outageSeenByHaproxy('kafka')
    expect(await serverStates()).toEqual(['UP', 'UP'])
    for (let i = 0; i < 4; i++) {
      expect(await read()).toMatchObject({ status: 200 })
      expect(await write()).toEqual({ status: 503, retryAfter: '1', code: 'kafka_unavailable' })
    }
  }, 60_000)
})
