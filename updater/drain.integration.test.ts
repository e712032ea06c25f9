/**
 * Measurement, not a check (run with UPDATER_BENCH=1): the updater's drain rate for a backlog,
 * beside a bare BatchWriteItem loop against the same dynalite in the same run, and the start-up
 * cost of the two pinning options (standalone fetch + commit vs a consumer group with a custom
 * assigner).
 */
import { afterAll, expect, test } from 'bun:test'
import { Consumer, MessagesStreamModes } from '@platformatic/kafka'
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { createLogger } from '../shared/log/logger.ts'
import { brokers, waitFor } from '../test/support/stack.ts'
import { chunks, Semaphore } from './dynamo-io.ts'
import { committedOffsets, dumpTable, makeTable, makeTopics, produce, settingsOf, testDb, updaterEnv, workload } from './integration-support.ts'
import { PartitionReader } from './partition-reader.ts'
import { Updater } from './updater.ts'

const bench = process.env.UPDATER_BENCH ? test : test.skip
const db = testDb()
afterAll(() => db.destroy())
const log = createLogger('bench', 'warn', {}, () => {})

bench('drain rate of a 20,000-command backlog vs a bare BatchWriteItem loop', async () => {
  const topics = await makeTopics('drain', 12)
  const table = await makeTable('drain')
  const produced = await produce(topics.commands, workload(2000, 20_000, 97))
  const env = updaterEnv(topics, table, { UPDATER_PARTITIONS: Array.from({ length: 12 }, (_, i) => i).join(','), LOG_LEVEL: 'warn' })
  const s = settingsOf(env)
  const u = new Updater(s, { log, dataDb: createDynamoClient(s, { requestTimeoutMs: 3000, maxAttempts: 1 }), controlDb: createDynamoClient(s) })
  const ends = new Map<number, number>()
  for (const p of produced) ends.set(p.partition, Math.max(ends.get(p.partition) ?? 0, p.offset + 1))
  const t0 = performance.now()
  await u.start()
  await waitFor('drained', async () => {
    const c = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, 12)
    return [...ends].every(([p, end]) => c.get(p) === end)
  }, 180_000, 100)
  const seconds = (performance.now() - t0) / 1000
  await u.stop()
  const items = u.metrics.itemsWritten.get()
  const updaterRate = items / seconds

  // The same images, written again by a bare loop: 25 a request, the same requests in flight.
  const images = [...(await dumpTable(db, table)).values()]
  const table2 = await makeTable('drain-bare')
  const gate = new Semaphore(s.UPDATER_WRITE_CONCURRENCY)
  const bareItems = images.length
  const t1 = performance.now()
  await Promise.all(chunks(images, 25).map(chunk => gate.run(() => db.send(new BatchWriteCommand({ RequestItems: { [table2]: chunk.map(Item => ({ PutRequest: { Item } })) } })))))
  const bareRate = bareItems / ((performance.now() - t1) / 1000)
  process.stderr.write(`drain: ${produced.length} commands, ${items} items in ${seconds.toFixed(1)} s = ${updaterRate.toFixed(0)} items/s (${(produced.length / seconds).toFixed(0)} commands/s); bare BatchWriteItem loop: ${bareItems} items at ${bareRate.toFixed(0)} items/s; ratio ${(updaterRate / bareRate).toFixed(2)}\n`)
  expect(items).toBeGreaterThan(0)
}, 300_000)

bench('pinning: time to the first record, standalone fetch vs a consumer group with a custom assigner (2 members)', async () => {
  const topics = await makeTopics('pin', 12)
  await produce(topics.commands, workload(100, 200, 5))
  // Standalone: metadata, committed offsets, one fetch per updater.
  const t0 = performance.now()
  const readers = [0, 1].map(i => new PartitionReader({ brokers: brokers(), clientId: `pin-${i}`, groupId: `${topics.commands}-standalone`, topic: topics.commands, maxWaitMs: 100, maxBytesPerPartition: 1 << 20 }))
  await Promise.all(readers.map(async (r, i) => {
    await r.connect()
    const owned = Array.from({ length: 6 }, (_, k) => k * 2 + i)
    const positions = await r.positions(owned)
    const res = await r.fetch(positions)
    expect(res.records.size).toBeGreaterThan(0)
    await r.commit(new Map([[owned[0]!, 1]]))
  }))
  const standalone = performance.now() - t0
  await Promise.all(readers.map(r => r.close()))

  // Group: both members join; the leader's assigner gives member i the partitions of index i.
  const t1 = performance.now()
  const consumers = [0, 1].map(i => new Consumer({ groupId: `${topics.commands}-group`, clientId: `pin-g${i}`, bootstrapBrokers: brokers(), maxWaitTime: 100, sessionTimeout: 10_000, heartbeatInterval: 500 }))
  const firsts = await Promise.all(consumers.map(async (c, i) => {
    const stream = await c.consume({
      topics: [topics.commands], mode: MessagesStreamModes.EARLIEST, autocommit: false,
      partitionAssigner: (_current, members) => [...members.keys()].sort().map((memberId, m) => ({
        memberId, assignments: new Map([[topics.commands, { topic: topics.commands, partitions: Array.from({ length: 6 }, (_, k) => k * 2 + m) }]])
      }))
    })
    return await new Promise<number>(resolve => stream.once('data', () => resolve(performance.now() - t1)))
      .finally(() => void i)
  }))
  const group = Math.max(...firsts)
  await Promise.all(consumers.map(c => c.close(true)))
  process.stderr.write(`pinning: standalone first records (2 updaters) ${standalone.toFixed(0)} ms; group with custom assigner ${group.toFixed(0)} ms\n`)
}, 120_000)
