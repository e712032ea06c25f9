import { afterAll, expect, test } from 'bun:test'
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { reservationSk, userPk } from '../shared/domain/keys.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { createLogger } from '../shared/log/logger.ts'
import { encodeCommand, type Command } from '../shared/schemas/command.ts'
import { readTopic } from '../test/support/kafka.ts'
import { brokers, stackEnv, waitFor } from '../test/support/stack.ts'
import { FaultProxy } from './fault-proxy.ts'
import { command, committedOffsets, makeTable, makeTopics, settingsOf, testDb, updaterEnv } from './integration-support.ts'
import { Updater } from './updater.ts'

/**
 * Poison on a command partition, produced straight to the topic as a hostile or broken producer
 * would (the API never sends these): each poison record is followed by another user's command on
 * the same partition, whose write must land within seconds while the committed offset moves past
 * the poison. Before poison isolation, the 3 KB key reached DynamoDB (BatchGetItem refused it with
 * ValidationException) and the refused write was retried forever: the partition stalled for good.
 */
const db = testDb()
afterAll(() => db.destroy())
const lines: Array<Record<string, unknown>> = []
const log = createLogger('updater-test', 'debug', {}, line => { lines.push(JSON.parse(line)); if (process.env.TEST_LOGS) process.stderr.write(line) })
const nextId = createIdGenerator()

function reservation (userId: string): Command {
  return command('reservation.create', userId, nextId(), {
    reservationId: nextId(), type: 'flight', title: `for ${userId}`, startsAt: '2031-05-01T10:00:00Z', endsAt: '2031-05-01T12:00:00Z', places: [{ name: 'Oslo' }]
  })
}

async function stored (c: Command): Promise<Record<string, unknown> | undefined> {
  const id = (c.payload as { reservationId: string }).reservationId
  return (await db.send(new GetCommand({ TableName: tableName, Key: { pk: userPk(c.userId), sk: reservationSk(id) }, ConsistentRead: true }))).Item
}

let tableName = ''

test('a 3 KB key, a key that is no user id, another user\'s key, a write DynamoDB refuses for good: each dead-lettered with its reason, and the next user\'s write on the partition lands within seconds', async () => {
  const topics = await makeTopics('poison-iso', 1)
  tableName = await makeTable('poison-iso')
  // DynamoDB's answer to an item over 400 KB, for every write request that carries mallory's items.
  const proxy = new FaultProxy(stackEnv().DYNAMODB_ENDPOINT!)
  proxy.fault = (target, _n, body) => target === 'BatchWriteItem' && body.includes(`"${userPk('mallory')}"`) ? 'refuse' : 'pass'
  proxy.start()
  const env = updaterEnv(topics, tableName, { DYNAMODB_ENDPOINT: proxy.endpoint, UPDATER_STALL_RETRY_MS: '300' })
  const s = settingsOf(env)
  const u = new Updater(s, { log, dataDb: createDynamoClient(s, { requestTimeoutMs: s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS, maxAttempts: 1 }), controlDb: createDynamoClient(s) })
  const producer = new BatchingProducer({ brokers: brokers(), clientId: 'test-poison', lingerMs: 1 })
  await u.start()
  try {
    await waitFor('updater ready', () => u.ready(), 15_000)
    await producer.connect([topics.commands])
    const refused = reservation('mallory')
    const rounds = [
      { what: 'a 3 KB key', key: 'k'.repeat(3072), value: encodeCommand(reservation('ghost')), code: 'poison', reason: 'key of 3072 bytes is not a user id' },
      { what: 'a key that is no user id', key: 'not a user!', value: encodeCommand(reservation('ghost')), code: 'poison', reason: 'key is not a user id' },
      { what: 'another user\'s key', key: 'alice', value: encodeCommand(reservation('bob')), code: 'poison', reason: 'message key alice is not the command\'s userId bob' },
      { what: 'a write refused for good', key: 'mallory', value: encodeCommand(refused), code: 'write_refused', reason: 'ValidationException' }
    ]
    const poisonOffsets: number[] = []
    for (const [i, round] of rounds.entries()) {
      const poison = await producer.send(topics.commands, round.key, round.value)
      const victim = reservation(`victim-${i}`)
      const ack = await producer.send(topics.commands, victim.userId, encodeCommand(victim))
      expect(ack.partition).toBe(poison.partition)
      poisonOffsets.push(Number(poison.offset))
      const t0 = performance.now()
      await waitFor(`after ${round.what}: the next user's write applied`, async () => (await stored(victim))?.lastOffset === Number(ack.offset), 10_000, 50)
      await waitFor(`after ${round.what}: committed past it`, async () => ((await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, 1)).get(0) ?? 0) > Number(ack.offset), 10_000, 100)
      process.stderr.write(`poison test: ${round.what}: next user's write applied and committed in ${Math.round(performance.now() - t0)} ms\n`)
    }

    const dlq = await readTopic(topics.dlq, rounds.length, 15_000)
    expect(dlq.map(d => Number(d.headers['dlq-origin-offset']))).toEqual(poisonOffsets)
    for (const [i, round] of rounds.entries()) {
      expect(dlq[i]!.headers['dlq-code']).toBe(round.code)
      expect(dlq[i]!.headers['dlq-reason']).toContain(round.reason)
      expect(dlq[i]!.key).toBe(round.key)
      expect(dlq[i]!.value).toBe(round.value)
    }
    expect(await stored(refused)).toBeUndefined()
    expect(proxy.stats.faults.refuse).toBeGreaterThan(0)
    expect(u.metrics.poison.get({ reason: 'bad_key' })).toBe(2)
    expect(u.metrics.poison.get({ reason: 'key_mismatch' })).toBe(1)
    expect(u.metrics.poison.get({ reason: 'write_refused' })).toBe(1)
    expect(u.metrics.stalled.get({ partition: 0 })).toBe(0)
    const refusal = lines.find(l => l.msg === 'updater_write_refused')
    expect(refusal).toMatchObject({ user: 'mallory', offset: poisonOffsets[3], error: 'ValidationException' })
  } finally {
    await producer.close()
    await u.stop()
    proxy.stop()
  }
}, 90_000)
