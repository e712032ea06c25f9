import { afterAll, expect, test } from 'bun:test'
import { Admin } from '@platformatic/kafka'
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { createLogger } from '../shared/log/logger.ts'
import { brokers, waitFor } from '../test/support/stack.ts'
import { PrivateDynalite, command, committedOffsets, makeTable, makeTopics, produce, settingsOf, testDb, updaterEnv } from './integration-support.ts'
import { Updater } from './updater.ts'

// Retention (here the admin API's DeleteRecords, which moves the log start the same way) deletes
// commands the updater has not read. Kafka then answers OFFSET_OUT_OF_RANGE below the log start;
// the updater is not in a consumer group whose auto.offset.reset would handle it, so it must move
// on to the earliest record left, both at start (committed offset below the log start) and while
// running (its next fetch below the log start).
const dynalite = new PrivateDynalite()
afterAll(() => dynalite.destroy())

const userId = 'retention-user'
const ID = (n: number) => '01JRET' + String(n).padStart(20, '0')
const create = (n: number) => command('reservation.create', userId, ID(1000 + n), { reservationId: ID(n), type: 'hotel', title: `R${n}`, startsAt: '2031-05-01T10:00:00Z', endsAt: '2031-05-02T10:00:00Z', places: [{ name: 'Oslo' }] })

test('commands deleted before the updater read them: it resumes from the earliest offset left, at start and while running', async () => {
  await dynalite.start()
  const db = testDb(dynalite.endpoint)
  const topics = await makeTopics('retention', 1)
  const table = await makeTable('retention', dynalite.endpoint)
  // A lease long enough to outlive the outage below: the worker keeps its place instead of re-reading it.
  const env = updaterEnv(topics, table, { DYNAMODB_ENDPOINT: dynalite.endpoint, UPDATER_LEASE_TTL_MS: '60000', UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS: '500', UPDATER_WRITE_MAX_ATTEMPTS: '2' })
  const group = env.UPDATER_GROUP_ID!
  const admin = new Admin({ clientId: 'test-retention', bootstrapBrokers: brokers(), timeout: 10_000 })
  const deleteBefore = (offset: number) => admin.deleteRecords({ topics: [{ name: topics.commands, partitions: [{ partition: 0, offset: BigInt(offset) }] }] })
  const lines: Array<Record<string, unknown>> = []
  const s = settingsOf(env)
  const u = new Updater(s, {
    log: createLogger('retention-test', 'info', {}, line => { lines.push(JSON.parse(line)); if (process.env.TEST_LOGS) process.stderr.write(line) }),
    dataDb: createDynamoClient(s, { requestTimeoutMs: s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS, maxAttempts: 1 }),
    controlDb: createDynamoClient(s)
  })
  const written = async (n: number) => (await db.send(new GetCommand({ TableName: table, Key: { pk: `U#${userId}`, sk: `RES#${ID(n)}` }, ConsistentRead: true }))).Item !== undefined
  const resets = () => lines.filter(l => l.msg === 'updater_position_reset')
  try {
    // At start: offset 1 committed, offsets 0..2 deleted: the committed position is gone.
    expect((await produce(topics.commands, [0, 1, 2, 3].map(create))).map(p => p.offset)).toEqual([0, 1, 2, 3])
    await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topics.commands, partitionOffsets: [{ partition: 0, offset: 1n }] }] })
    await deleteBefore(3)
    await u.start()
    await waitFor('offset 3 applied and committed', async () => (await committedOffsets(group, topics.commands, 1)).get(0) === 4, 20_000)
    expect(await written(3)).toBe(true)
    expect([await written(1), await written(2)]).toEqual([false, false])
    // The start position was read right: no fetch below the log start was needed.
    expect(resets()).toEqual([])

    // While running: the partition stalls (DynamoDB gone) holding offsets 4-5; meanwhile 6-7 arrive
    // and are deleted unread. Once DynamoDB is back, 4-5 land and the next fetch, from 6, is below the log start.
    await dynalite.stop()
    await produce(topics.commands, [4, 5].map(create))
    await waitFor('the partition to stall', () => u.states()[0] === 'stalled', 20_000, 20)
    expect((await produce(topics.commands, [6, 7].map(create))).map(p => p.offset)).toEqual([6, 7])
    await deleteBefore(8)
    await dynalite.start()
    await waitFor('offsets 4-5 applied and committed', async () => (await committedOffsets(group, topics.commands, 1)).get(0) === 6, 20_000)
    await waitFor('the position reset', () => resets().length > 0, 10_000, 20)
    expect(resets()).toEqual([expect.objectContaining({ level: 'warn', partition: 0, from: 6, to: 8 })])
    expect((await produce(topics.commands, [8].map(create)))[0]!.offset).toBe(8)
    await waitFor('offset 8 applied and committed', async () => (await committedOffsets(group, topics.commands, 1)).get(0) === 9, 20_000)
    expect([await written(4), await written(5), await written(8)]).toEqual([true, true, true])
    expect([await written(6), await written(7)]).toEqual([false, false])
    expect(u.ready()).toBe(true)
  } finally {
    await u.stop()
    await admin.close()
    db.destroy()
  }
}, 90_000)
