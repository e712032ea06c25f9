import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Consumer, MessagesStreamModes } from '@platformatic/kafka'
import { newId } from '../shared/domain/ids.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { NOT_AFTER_HEADER } from '../shared/kafka/expiry.ts'
import { deadLetterTopic, ensureTopics, topicSpecs } from '../shared/kafka/topics.ts'
import { createLogger } from '../shared/log/logger.ts'
import { Registry } from '../shared/metrics/registry.ts'
import { encodeCommand } from '../shared/schemas/command.ts'
import { brokerService, kafkaClasspath, newClusterId, prepareBroker } from '../infra/kafka/broker.ts'
import { Supervisor } from '../infra/stack/supervisor.ts'
import { freePort, stackEnv, uniq, waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { command, dumpTable, makeTable, settingsOf, updaterEnv } from '../updater/integration-support.ts'
import { Updater } from '../updater/updater.ts'
import { createApp } from './app.ts'
import { call, quietLog, testSettings } from './testing.ts'

/**
 * "503 means not written", against a PRIVATE broker frozen with SIGSTOP: writes sent while it is
 * frozen are answered 503 at the deadline while their produce request sits in the broker's
 * socket; SIGCONT after the deadline lets the broker append them, and the updater must drop them
 * (dead letters `expired`) while a later write of the same user, answered 202, is applied.
 * On the old code the late copies were applied: the ghost trips appeared in the table.
 */
const env = stackEnv()
const dir = mkdtempSync(join(tmpdir(), 'rw-api-deadline-'))
const sup = new Supervisor(join(dir, 'logs'), testLogger)
const port = freePort()
const bootstrap = `127.0.0.1:${port}`
const broker = { dataDir: join(dir, 'kafka'), port, controllerPort: freePort(), heapMb: 256, mavenRepo: env.MAVEN_REPO!, extra: {}, clusterId: newClusterId() }
const base = uniq('deadline')
const topics = { commands: `${base}-cmd`, status: `${base}-status`, dlq: deadLetterTopic(`${base}-cmd`, 'updater') }
const deadlineMs = 1500
const db = createDynamoClient({ DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT, AWS_REGION: 'local' })
const lines: Array<Record<string, unknown>> = []
const log = createLogger('deadline-test', 'debug', {}, line => { lines.push(JSON.parse(line)); if (process.env.TEST_LOGS) process.stderr.write(line) })
let table = ''
let producer: BatchingProducer
let updater: Updater | undefined
let frozen = 0

beforeAll(async () => {
  const classpath = await kafkaClasspath(resolve(env.MAVEN_REPO!), testLogger)
  const config = await prepareBroker(broker, classpath, testLogger)
  await sup.start(brokerService(broker, classpath, config))
  // The real topic specs: the command topic's LogAppendTime is part of what is tested.
  await ensureTopics([bootstrap], topicSpecs({
    TOPIC_COMMANDS: topics.commands, TOPIC_STATUS: topics.status, TOPIC_NOTIFICATIONS: `${base}-notif`,
    COMMAND_PARTITIONS: 2, STATUS_PARTITIONS: 2, NOTIFICATION_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, COMMAND_RETENTION_DAYS: 1
  }), testLogger)
  table = await makeTable('deadline')
  // Linger long enough that the writes sent while frozen share one produce request.
  producer = new BatchingProducer({ brokers: [bootstrap], clientId: 'api-deadline', deadlineMs, clockSkewMs: 100, lingerMs: 20 })
  await producer.connect([topics.commands])
  const s = settingsOf(updaterEnv({ commands: topics.commands, status: topics.status, dlq: topics.dlq }, table, { KAFKA_BROKERS: bootstrap, UPDATER_FETCH_MAX_WAIT_MS: '50' }))
  updater = new Updater(s, { log, dataDb: createDynamoClient(s), controlDb: createDynamoClient(s) })
  await updater.start()
}, 180_000)

afterAll(async () => {
  if (frozen) process.kill(frozen, 'SIGCONT')
  await updater?.stop().catch(() => {})
  await producer?.close().catch(() => {})
  await sup.stopAll()
  db.destroy()
  rmSync(dir, { recursive: true, force: true })
}, 90_000)

test('a write answered 503 while the broker is frozen never lands, even when the broker appends it later; later writes answered 202 do', async () => {
  const app = createApp({ producer, db, table, log: quietLog, registry: new Registry(), draining: () => false, settings: { ...testSettings, TOPIC_COMMANDS: topics.commands, PRODUCE_DEADLINE_MS: deadlineMs } })
  const user = uniq('frozen-user')
  const tripsOf = async () => [...(await dumpTable(db, table)).values()]
    .filter(i => i.pk === `U#${user}` && i.entity === 'trip' && !i.deleted)
    .map(i => ({ id: String(i.id), name: String(i.name) }))

  // Every write answered 503 joins the writes that must never land (on a loaded machine the first
  // send to a new topic can miss the deadline).
  const refused: string[] = []
  const accept = async (name: string): Promise<string> => {
    const until = Date.now() + 60_000
    for (let n = 0; Date.now() < until; n++) {
      const r = await call(app, 'POST', '/v1/trips', { as: user, body: { name: `${name}-${n}` } })
      if (r.status === 202) return r.json.id
      expect(r.status).toBe(503)
      refused.push(`${name}-${n}`)
      await Bun.sleep(200)
    }
    throw new Error(`no 202 for ${name} within 60 s`)
  }
  const firstId = await accept('before')
  await waitFor('the first trip applied', async () => (await tripsOf()).some(t => t.id === firstId), 30_000)

  // Freeze the broker: its sockets still take bytes, it reads none of them.
  frozen = await freeze()
  const t0 = performance.now()
  const ghosts = await Promise.all([
    call(app, 'POST', '/v1/trips', { as: user, body: { name: 'ghost-1' } }),
    call(app, 'POST', '/v1/trips', { as: user, body: { name: 'ghost-2' } }),
    call(app, 'PATCH', `/v1/trips/${firstId}`, { as: user, body: { name: 'ghost-rename' } }),
    call(app, 'POST', '/v1/trips', { as: user, body: { name: 'ghost-idem' }, headers: { 'idempotency-key': `${user}-idem` } })
  ])
  for (const g of ghosts) {
    expect(g.status).toBe(503)
    expect(g.headers.get('retry-after')).toBe('1')
  }
  expect(performance.now() - t0).toBeLessThan(deadlineMs + 1000)
  // Resume well after the deadline: the broker now appends what was sitting in its socket.
  await Bun.sleep(1000)
  process.kill(frozen, 'SIGCONT')
  frozen = 0

  // A later write of the same user, sent until it is answered 202 (the client reconnects first).
  const afterId = await accept('after')
  // The idempotent create, retried now: its own send, its own deadline.
  const retried = await call(app, 'POST', '/v1/trips', { as: user, body: { name: 'ghost-idem' }, headers: { 'idempotency-key': `${user}-idem` } })
  expect(retried.status).toBe(202)
  const idemId: string = retried.json.id

  await waitFor('the later writes applied', async () => {
    const ids = (await tripsOf()).map(t => t.id)
    return ids.includes(afterId) && ids.includes(idemId)
  }, 30_000)
  const trips = await tripsOf()
  // Every 202 applied, exactly once; nothing answered 503 ever applied.
  expect(trips.map(t => t.id).sort()).toEqual([firstId, afterId, idemId].sort())
  expect(trips.find(t => t.id === firstId)!.name).toMatch(/^before-\d+$/)
  expect(trips.find(t => t.id === idemId)!.name).toBe('ghost-idem')
  for (const t of trips) expect(refused).not.toContain(t.name)

  // The copies the broker appended after the deadline are dead letters `expired`, with their header.
  const expired = lines.filter(l => l.msg === 'updater_dead_letter' && l.code === 'expired')
  expect(expired.length).toBeGreaterThanOrEqual(1)
  const letters = await readAll(topics.dlq)
  const late = letters.filter(l => l.headers['dlq-code'] === 'expired')
  expect(late.length).toBeGreaterThanOrEqual(expired.length)
  for (const l of late) {
    expect(l.headers['dlq-reason']).toContain('after its deadline')
    const command = JSON.parse(l.value)
    expect(command.userId).toBe(user)
    expect(['ghost-1', 'ghost-2', 'ghost-rename', 'ghost-idem', ...refused]).toContain(command.payload.name ?? command.payload.patch?.name)
  }
  // The late copies really were appended (the test froze a request in flight, not only a queue).
  const appended = await readAll(topics.commands)
  const ghostsInLog = appended.filter(r => /ghost/.test(r.value))
  expect(ghostsInLog.length).toBeGreaterThanOrEqual(1)
  for (const r of appended) expect(r.headers[NOT_AFTER_HEADER]).toMatch(/^\d+$/)
}, 180_000)

test('the producer answers by the broker\'s append time: an ack past the deadline header rejects (PRODUCE_EXPIRED) and that copy is dropped', async () => {
  // deadline 4000, allowance 2500: the header is 1499 ms after the send, the local deadline 4000 ms,
  // the client's own request timeout 2000 ms; the broker resumes at 1700 ms and acks before either.
  const p = new BatchingProducer({ brokers: [bootstrap], clientId: 'deadline-ack', deadlineMs: 4000, clockSkewMs: 2500, lingerMs: 1 })
  await p.connect([topics.commands])
  try {
    const user = uniq('ack-user')
    const trip = (name: string) => encodeCommand(command('trip.create', user, newId(), { tripId: newId(), name }))
    const before = Date.now()
    const ok = await p.send(topics.commands, user, trip('on-time'), undefined, { expires: true })
    expect(ok.appendTime).toBeGreaterThanOrEqual(before)
    expect(ok.appendTime).toBeLessThanOrEqual(Date.now())

    frozen = await freeze()
    const lateSend = p.send(topics.commands, user, trip('acked-late'), undefined, { expires: true }).then(() => 'accepted', (err: { code?: string }) => err.code)
    await Bun.sleep(1700)
    process.kill(frozen, 'SIGCONT')
    frozen = 0
    expect(await lateSend).toBe('PRODUCE_EXPIRED')

    expect(await p.send(topics.commands, user, trip('after'), undefined, { expires: true }).then(a => a.appendTime !== undefined)).toBe(true)
    const names = async () => [...(await dumpTable(db, table)).values()].filter(i => i.pk === `U#${user}` && i.entity === 'trip').map(i => String(i.name)).sort()
    await waitFor('the later trip applied', async () => (await names()).includes('after'), 30_000)
    expect(await names()).toEqual(['after', 'on-time'])
  } finally {
    await p.close()
  }
}, 60_000)

/** SIGSTOP to the broker, then waits until every one of its threads is stopped (state T). */
async function freeze (): Promise<number> {
  const pid = sup.pids()[0]!
  process.kill(pid, 'SIGSTOP')
  const stopped = () => readdirSync(`/proc/${pid}/task`).every(t => {
    try { return /^\d+ \(.*\) [Tt] /.test(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')) } catch { return true } // a thread that ended
  })
  await waitFor(`broker ${pid} stopped`, stopped, 10_000, 5)
  return pid
}

/** Every record of a topic of the private broker, from the start. */
async function readAll (topic: string): Promise<Array<{ value: string, headers: Record<string, string> }>> {
  const consumer = new Consumer({ groupId: uniq('deadline-reader'), clientId: 'deadline-reader', bootstrapBrokers: [bootstrap], maxWaitTime: 100, timeout: 5000 })
  const out: Array<{ value: string, headers: Record<string, string> }> = []
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
  let last = Date.now()
  stream.on('data', m => {
    const headers: Record<string, string> = {}
    for (const [k, v] of m.headers) headers[k.toString()] = v.toString()
    out.push({ value: m.value.toString(), headers })
    last = Date.now()
  })
  try {
    while (Date.now() - last < 1500) await Bun.sleep(100)
  } finally {
    await stream.close().catch(() => {})
    await consumer.close(true).catch(() => {})
  }
  return out
}
