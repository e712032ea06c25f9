import { expect, test } from 'bun:test'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { NOT_AFTER_HEADER } from '../shared/kafka/expiry.ts'
import { encodeCommand, type Command } from '../shared/schemas/command.ts'
import { processBatch, type BatchIo } from './batch-processor.ts'
import type { Item, Key } from './dynamo-io.ts'
import { recordExpiry } from './expiry.ts'
import type { ReadRecord } from './partition-reader.ts'
import { fakeLiveQueries } from '../shared/domain/test-fixtures.ts'

const newId = createIdGenerator()
const h = (k: string, v: string): [Buffer, Buffer] => [Buffer.from(k), Buffer.from(v)]

test('recordExpiry reads the not-after header (the last one wins) against the append time', () => {
  expect(recordExpiry({ appendTime: 1000, headers: [h(NOT_AFTER_HEADER, '1000')] }).verdict).toBe('apply')
  expect(recordExpiry({ appendTime: 1001, headers: [h(NOT_AFTER_HEADER, '1000')] }).verdict).toBe('expired')
  expect(recordExpiry({ appendTime: 1001, headers: [h(NOT_AFTER_HEADER, '500'), h(NOT_AFTER_HEADER, '2000')] }).verdict).toBe('apply')
  expect(recordExpiry({ appendTime: 1001, headers: [h('other', '1')] }).verdict).toBe('apply')
  expect(recordExpiry({ appendTime: 1001 }).verdict).toBe('apply')
  expect(recordExpiry({ headers: [h(NOT_AFTER_HEADER, '1000')] }).verdict).toBe('unchecked')
  expect(recordExpiry({ appendTime: 1, headers: [h(NOT_AFTER_HEADER, 'soon')] }).verdict).toBe('expired')
})

test('processBatch: a command appended after its deadline is a dead letter `expired`, never written; the others apply', async () => {
  const table = new Map<string, Item>()
  const keyOf = (i: Key | Item) => `${String(i.pk)}|${String(i.sk)}`
  const io: BatchIo = {
    getAll: async keys => keys.map(k => table.get(keyOf(k))).filter((i): i is Item => i !== undefined),
    ...fakeLiveQueries(table),
    putAll: async items => { for (const i of items) table.set(keyOf(i), i); return items.length ? 1 : 0 }
  }
  const sent: Array<{ topic: string, headers?: Record<string, string> }> = []
  const trip = (name: string, offset: number, appendTime: number, notAfter?: number): [ReadRecord, string] => {
    const tripId = newId()
    const command = { v: 1, id: newId(), type: 'trip.create', userId: 'u1', actorId: 'u1', acceptedAt: 1_900_000_000_000, payload: { tripId, name } } as Command
    const headers = notAfter === undefined ? [] : [h(NOT_AFTER_HEADER, String(notAfter))]
    return [{ partition: 0, offset, key: Buffer.from('u1'), value: Buffer.from(encodeCommand(command)), appendTime, headers }, tripId]
  }
  const [onTime, onTimeId] = trip('on time', 0, 5000, 5000)
  const [late, lateId] = trip('late', 1, 5001, 5000)
  const [noDeadline, noDeadlineId] = trip('no deadline', 2, 9_000_000)
  const report = await processBatch({
    topic: 'cmd',
    statusTopic: 'status',
    deadLetterTopic: 'dlq',
    io,
    send: async (topic, _key, _value, headers) => { sent.push({ topic, headers }) },
    guard: () => {}
  }, 0, [onTime, late, noDeadline])

  const trips = [...table.values()].filter(i => i.entity === 'trip').map(i => String(i.id)).sort()
  expect(trips).toEqual([onTimeId, noDeadlineId].sort())
  expect(trips).not.toContain(lateId)
  expect(report.expired).toBe(1)
  expect(report.applied).toBe(2)
  expect(report.poison).toBe(0)
  expect(report.outcomes.map(o => o.done)).toEqual([true, true, true])
  const letters = sent.filter(s => s.topic === 'dlq')
  expect(letters.length).toBe(1)
  expect(letters[0]!.headers!['dlq-code']).toBe('expired')
  expect(letters[0]!.headers!['dlq-origin-offset']).toBe('1')
  expect(sent.filter(s => s.topic === 'status')).toEqual([])
})
