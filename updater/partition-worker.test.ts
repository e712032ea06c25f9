import { expect, test } from 'bun:test'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { createLogger } from '../shared/log/logger.ts'
import { encodeCommand, type Command } from '../shared/schemas/command.ts'
import type { BatchIo } from './batch-processor.ts'
import type { Committer } from './committer.ts'
import type { Item, Key } from './dynamo-io.ts'
import { BatchAbandonedError, DynamoRefusedError } from './errors.ts'
import type { PartitionLease } from './lease.ts'
import { UpdaterMetrics } from './metrics.ts'
import { PartitionWorker } from './partition-worker.ts'
import type { ReadRecord } from './partition-reader.ts'
import { fakeLiveQueries } from '../shared/domain/test-fixtures.ts'

const newId = createIdGenerator()
const keyOf = (i: Key | Item) => `${String(i.pk)}|${String(i.sk)}`

function tripCreate (userId: string, offset: number): ReadRecord {
  const command = { v: 1, id: newId(), type: 'trip.create', userId, actorId: userId, acceptedAt: 1_900_000_000_000, payload: { tripId: newId(), name: `Trip ${offset}` } } as Command
  return { partition: 0, offset, key: Buffer.from(userId), value: Buffer.from(encodeCommand(command)) }
}

test('an attempt past the batch deadline is abandoned: it writes nothing more, and the next attempt starts once it ended and checks the writes it left unsettled', async () => {
  const deadlineMs = 100
  const table = new Map<string, Item>()
  const events: string[] = []
  let guardError: unknown
  let carried: string[] = []
  let attempt = 0
  const io: BatchIo = {
    getAll: async keys => keys.map(k => table.get(keyOf(k))).filter((i): i is Item => i !== undefined),
    ...fakeLiveQueries(table),
    putAll: async (items, guard, unsettled = new Map()) => {
      if (++attempt === 1) {
        events.push('first:start')
        // A request of unknown outcome, then a call that answers only after the deadline.
        for (const i of items) unsettled.set(keyOf(i), i)
        await Bun.sleep(deadlineMs * 2)
        try { guard() } catch (err) { guardError = err; events.push('first:end'); throw err }
        events.push('first:wrote')
        for (const i of items) table.set(keyOf(i), i)
        return 1
      }
      events.push('second:start')
      carried = [...unsettled.keys()].sort()
      guard()
      for (const i of items) table.set(keyOf(i), i)
      unsettled.clear()
      return 1
    }
  }
  const commits: Array<[number, number]> = []
  const lines: Array<Record<string, unknown>> = []
  const lease = { partition: 0, isValid: () => true, isHeld: () => true, check: () => {}, renew: async () => {}, acquire: async () => 1 } as unknown as PartitionLease
  const worker = new PartitionWorker(
    { partition: 0, batchMaxMessages: 10, batchMaxWaitMs: 5, stallRetryMs: 10, leaseRetryMs: 50, batchDeadlineMs: deadlineMs, abandonGraceMs: 5000 },
    {
      log: createLogger('worker-test', 'debug', {}, line => { lines.push(JSON.parse(line)) }),
      metrics: new UpdaterMetrics(),
      lease,
      committer: { commit: async (p: number, offset: number) => { commits.push([p, offset]) } } as unknown as Committer,
      position: async () => 0,
      batch: { topic: 'cmd', statusTopic: 'status', deadLetterTopic: 'dlq', io, send: async () => {} },
      wake: () => {}
    })
  worker.start()
  const deadline = Date.now() + 5000
  while (worker.fetchPosition === undefined && Date.now() < deadline) await Bun.sleep(5)
  worker.deliver([tripCreate('u1', 0), tripCreate('u2', 1)])
  while (commits.length === 0 && Date.now() < deadline) await Bun.sleep(5)
  await worker.stop()

  expect(guardError).toBeInstanceOf(BatchAbandonedError)
  expect(events).toEqual(['first:start', 'first:end', 'second:start'])
  expect(carried).toEqual([...table.keys()].sort())
  expect(carried.length).toBe(2)
  expect(commits).toEqual([[0, 2]])
  const failed = lines.filter(l => l.msg === 'updater_batch_failed')
  expect(failed.length).toBe(1)
  expect((failed[0]!.error as { name: string }).name).toBe('BatchDeadlineError')
})

test('a write refused for good does not stall the partition: the refused user\'s command is dead-lettered and logged, the others written, the batch committed once', async () => {
  const table = new Map<string, Item>()
  let refusedCalls = 0
  const io: BatchIo = {
    getAll: async keys => keys.map(k => table.get(keyOf(k))).filter((i): i is Item => i !== undefined),
    ...fakeLiveQueries(table),
    putAll: async (items, guard) => {
      guard()
      if (items.some(i => i.pk === 'U#mallory')) {
        refusedCalls++
        throw new DynamoRefusedError('write', 'ValidationException', Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' }))
      }
      for (const i of items) table.set(keyOf(i), i)
      return 1
    }
  }
  const commits: Array<[number, number]> = []
  const dlq: Array<Record<string, string>> = []
  const lines: Array<Record<string, unknown>> = []
  const metrics = new UpdaterMetrics()
  const lease = { partition: 0, isValid: () => true, isHeld: () => true, check: () => {}, renew: async () => {}, acquire: async () => 1 } as unknown as PartitionLease
  const worker = new PartitionWorker(
    { partition: 0, batchMaxMessages: 10, batchMaxWaitMs: 5, stallRetryMs: 10, leaseRetryMs: 50, batchDeadlineMs: 5000, abandonGraceMs: 5000 },
    {
      log: createLogger('worker-test', 'debug', {}, line => { lines.push(JSON.parse(line)) }),
      metrics,
      lease,
      committer: { commit: async (p: number, offset: number) => { commits.push([p, offset]) } } as unknown as Committer,
      position: async () => 0,
      batch: { topic: 'cmd', statusTopic: 'status', deadLetterTopic: 'dlq', io, send: async (topic, _key, _value, headers) => { if (topic === 'dlq') dlq.push(headers!) } },
      wake: () => {}
    })
  worker.start()
  const deadline = Date.now() + 5000
  while (worker.fetchPosition === undefined && Date.now() < deadline) await Bun.sleep(5)
  worker.deliver([tripCreate('u1', 0), tripCreate('mallory', 1), tripCreate('u2', 2)])
  while (commits.length === 0 && Date.now() < deadline) await Bun.sleep(5)
  await worker.stop()

  expect(commits).toEqual([[0, 3]])
  expect([...table.keys()].map(k => k.split('|')[0]).sort()).toEqual(['U#u1', 'U#u2'])
  expect(dlq.map(h => [h['dlq-origin-offset'], h['dlq-code']])).toEqual([['1', 'write_refused']])
  expect(refusedCalls).toBeGreaterThanOrEqual(2)
  expect(lines.filter(l => l.msg === 'updater_batch_failed')).toEqual([])
  expect(lines.find(l => l.msg === 'updater_write_refused')).toMatchObject({ partition: 0, user: 'mallory', offset: 1, blocked: [], error: 'ValidationException' })
  expect(metrics.poison.get({ reason: 'write_refused' })).toBe(1)
  expect(metrics.commands.get({ result: 'refused' })).toBe(1)
  expect(metrics.commands.get({ result: 'applied' })).toBe(2)
  expect(metrics.stalled.get({ partition: 0 })).toBe(0)
})
