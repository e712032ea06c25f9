import { afterAll, describe, expect, test } from 'bun:test'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { partitionForKey } from '../shared/kafka/partitioner.ts'
import { encodeCommand } from '../shared/schemas/command.ts'
import { readTopic } from '../test/support/kafka.ts'
import { brokers, waitFor } from '../test/support/stack.ts'
import { createLogger } from '../shared/log/logger.ts'
import { FaultProxy } from './fault-proxy.ts'
import {
  command, committedOffsets, dumpTable, expectedTable, makeTable, makeTopics, produce, readyz, settingsOf, spawnUpdater,
  tableDiff, testDb, updaterEnv, workload
} from './integration-support.ts'
import { leaseKey } from './lease.ts'
import { Updater } from './updater.ts'
import { GetCommand } from '@aws-sdk/lib-dynamodb'

const db = testDb()
afterAll(() => db.destroy())

const lines: string[] = []
const log = createLogger('updater-test', 'debug', {}, line => { lines.push(line); if (process.env.TEST_LOGS) process.stderr.write(line) })

function inProcess (env: Record<string, string>): Updater {
  const s = settingsOf(env)
  return new Updater(s, {
    log,
    dataDb: createDynamoClient(s, { requestTimeoutMs: s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS, maxAttempts: 1 }),
    controlDb: createDynamoClient(s)
  })
}

const ID = (n: number) => '01JRES' + String(n).padStart(20, '0')

describe('updater against the real Kafka and dynalite', () => {
  test('a poison message reaches the dead-letter topic with its reason and origin; the partition keeps moving', async () => {
    const topics = await makeTopics('poison', 2)
    const table = await makeTable('poison')
    const env = updaterEnv(topics, table)
    const u = inProcess(env)
    await u.start()
    try {
      const p = new BatchingProducer({ brokers: brokers(), clientId: 'test-poison', lingerMs: 1 })
      await p.connect([topics.commands])
      const userId = 'poison-user'
      const partition = partitionForKey(userId, 2)
      const before = command('reservation.create', userId, ID(1), { reservationId: ID(2), type: 'flight', title: 'before', startsAt: '2031-01-01T10:00:00Z', endsAt: '2031-01-01T12:00:00Z', places: [{ name: 'Oslo' }] })
      const after = command('reservation.create', userId, ID(3), { reservationId: ID(4), type: 'hotel', title: 'after', startsAt: '2031-01-02T10:00:00Z', endsAt: '2031-01-03T12:00:00Z', places: [{ name: 'Oslo' }] })
      const impossible = command('reservation.remove', userId, ID(5), { reservationId: ID(6) })
      const a1 = await p.send(topics.commands, userId, encodeCommand(before))
      const bad = await p.send(topics.commands, userId, '{"type":"reservation.create","v":1')
      const invalid = await p.send(topics.commands, userId, JSON.stringify({ ...after, userId: 'has spaces' }))
      await p.send(topics.commands, userId, encodeCommand(impossible))
      const a2 = await p.send(topics.commands, userId, encodeCommand(after))
      await p.close()

      await waitFor('both reservations written', async () => {
        const r = await db.send(new GetCommand({ TableName: table, Key: { pk: `U#${userId}`, sk: `RES#${ID(4)}` }, ConsistentRead: true }))
        return r.Item?.lastOffset === Number(a2.offset)
      }, 20_000)
      const dlq = await readTopic(topics.dlq, 3, 15_000)
      expect(dlq.map(d => d.headers['dlq-origin-offset'])).toEqual([String(bad.offset), String(invalid.offset), String(Number(a2.offset) - 1)])
      expect(dlq.every(d => d.headers['dlq-origin-topic'] === topics.commands && d.headers['dlq-origin-partition'] === String(partition) && d.key === userId)).toBe(true)
      expect(dlq[0]!.headers['dlq-code']).toBe('poison')
      expect(dlq[0]!.headers['dlq-reason']).toContain('not JSON')
      expect(dlq[0]!.value).toBe('{"type":"reservation.create","v":1')
      expect(dlq[1]!.headers['dlq-reason']).toContain('/userId')
      expect(dlq[2]!.headers['dlq-code']).toBe('reservation_not_found')
      expect(dlq[2]!.headers['dlq-command-id']).toBe(ID(5))
      await waitFor('offsets committed past everything', async () => (await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, 2)).get(partition) === Number(a2.offset) + 1, 10_000)
      expect(Number(a1.offset)).toBeLessThan(Number(a2.offset))
      expect(u.metrics.deadLetters.get({ reason: 'poison' })).toBe(2)
    } finally {
      await u.stop()
    }
  })

  test('a second updater for an owned partition refuses it and says so; it takes over only once the first is gone', async () => {
    const topics = await makeTopics('fence', 2)
    const table = await makeTable('fence')
    const env = updaterEnv(topics, table, { UPDATER_PARTITIONS: '0,1' })
    const first = inProcess(env)
    await first.start()
    await waitFor('first ready', () => first.ready(), 10_000)
    const second = inProcess({ ...env, UPDATER_PARTITIONS: '1' })
    await second.start()
    try {
      await waitFor('second refused', () => second.states()[1] === 'refused', 10_000)
      expect(second.ready()).toBe(false)
      const refusal = lines.map(l => JSON.parse(l)).find(l => l.msg === 'updater_lease_refused')
      expect(refusal).toMatchObject({ partition: 1, holder: first.owner })
      // Commands for partition 1 are applied by the first updater only.
      const userId = Array.from({ length: 100 }, (_, i) => `fence-${i}`).find(k => partitionForKey(k, 2) === 1)!
      const [ack] = await produce(topics.commands, [command('settings.put', userId, ID(7), { language: 'fr' })])
      await waitFor('applied', async () => (await db.send(new GetCommand({ TableName: table, Key: { pk: `U#${userId}`, sk: 'SETTINGS' }, ConsistentRead: true }))).Item?.lastOffset === ack!.offset, 10_000)
      expect(second.metrics.commands.get({ result: 'applied' })).toBe(0)
      const lease = (await db.send(new GetCommand({ TableName: table, Key: leaseKey(topics.commands, 1), ConsistentRead: true }))).Item!
      expect(lease.owner).toBe(first.owner)
      // The first stops (releasing its leases): the second takes partition 1 with a higher epoch.
      await first.stop()
      await waitFor('second took over', () => second.states()[1] === 'running', 10_000)
      const taken = (await db.send(new GetCommand({ TableName: table, Key: leaseKey(topics.commands, 1), ConsistentRead: true }))).Item!
      expect(taken.owner).toBe(second.owner)
      expect(taken.epoch).toBe(lease.epoch + 1)
    } finally {
      await second.stop()
      await first.stop()
    }
  })

  test('the ended-trips task finds a trip whose end passed (byEndDay, no scan) and finishes it through the command topic', async () => {
    const topics = await makeTopics('finish', 2)
    const table = await makeTable('finish')
    const u = inProcess(updaterEnv(topics, table, { UPDATER_FINISHER_INTERVAL_MS: '300' }))
    await u.start()
    try {
      const userId = 'finish-user'
      const trip = ID(10)
      const ended = new Date(Date.now() - 3_600_000).toISOString()
      await produce(topics.commands, [
        command('trip.create', userId, ID(11), { tripId: trip, name: 'Past' }),
        command('reservation.create', userId, ID(12), { reservationId: ID(13), tripId: trip, type: 'hotel', title: 'H', startsAt: new Date(Date.now() - 86_400_000).toISOString(), endsAt: ended, places: [{ name: 'Rome' }] })
      ])
      await waitFor('trip finished', async () => (await db.send(new GetCommand({ TableName: table, Key: { pk: `U#${userId}`, sk: `TRIP#${trip}` }, ConsistentRead: true }))).Item?.status === 'finished', 15_000)
      const r = (await db.send(new GetCommand({ TableName: table, Key: { pk: `U#${userId}`, sk: `RES#${ID(13)}` }, ConsistentRead: true }))).Item!
      expect(r.status).toBe('finished')
      const t = (await db.send(new GetCommand({ TableName: table, Key: { pk: `U#${userId}`, sk: `TRIP#${trip}` }, ConsistentRead: true }))).Item!
      expect(t.gsi4pk).toBeUndefined() // left the index: not finished again
      expect(u.metrics.finisherCommands.get()).toBe(1)
    } finally {
      await u.stop()
    }
  })

  test('end to end: 5,000 commands for 500 users on 12 partitions, two updater processes: the table equals the fold, one write per key per request', async () => {
    const topics = await makeTopics('e2e', 12)
    const table = await makeTable('e2e')
    const proxy = new FaultProxy(updaterEnvEndpoint())
    proxy.start()
    const commands = workload(500, 5000, 7)
    const produced = await produce(topics.commands, commands)
    expect(new Set(produced.map(p => p.partition)).size).toBe(12)
    const env = updaterEnv(topics, table, { DYNAMODB_ENDPOINT: proxy.endpoint, UPDATER_COUNT: '2' })
    const updaters = [spawnUpdater({ ...env, UPDATER_INDEX: '0' }), spawnUpdater({ ...env, UPDATER_INDEX: '1', PORT: String(Number(env.PORT) + 1) })]
    try {
      const ends = new Map<number, number>()
      for (const p of produced) ends.set(p.partition, Math.max(ends.get(p.partition) ?? 0, p.offset + 1))
      await waitFor('every partition committed to its end', async () => {
        const c = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, 12)
        return [...ends].every(([p, end]) => c.get(p) === end)
      }, 90_000, 250)
      for (const u of updaters) expect((await readyz(u.port)).status).toBe(200)
      const diffs = tableDiff(expectedTable(produced), await dumpTable(db, table))
      expect(diffs.slice(0, 5)).toEqual([])
      expect(proxy.stats.duplicateKeysInOneRequest).toBe(0)
      expect(proxy.stats.batchWrites).toBeGreaterThan(0)
      // Lag is refreshed from fetches and every few seconds: it reaches 0 shortly after the commits.
      const metrics = async () => (await fetch(`http://127.0.0.1:${updaters[0]!.port}/metrics`)).text()
      await waitFor('lag 0 on partition 0', async () => (await metrics()).includes('updater_consumer_lag_messages{partition="0"} 0'), 15_000, 250)
      expect(await metrics()).toContain('updater_batch_size_messages_count')
    } finally {
      // SIGTERM: batch in hand finished, committed, leases released, exit 0.
      expect(await Promise.all(updaters.map(u => u.stop()))).toEqual([0, 0])
      proxy.stop()
    }
  }, 150_000)
})

function updaterEnvEndpoint (): string {
  return process.env.DYNAMODB_ENDPOINT!
}
