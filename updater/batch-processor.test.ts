import { expect, test } from 'bun:test'
import type { FoldCommand } from '../shared/domain/fold.ts'
import { FakeTable, commandFactory, flight } from '../shared/domain/test-fixtures.ts'
import { userPk } from '../shared/domain/keys.ts'
import { encodeCommand } from '../shared/schemas/command.ts'
import { processBatch, type BatchIo } from './batch-processor.ts'
import type { Item, Key } from './dynamo-io.ts'
import { DynamoRefusedError, DynamoRequestError } from './errors.ts'
import type { ReadRecord } from './partition-reader.ts'
import { fakeLiveQueries } from '../shared/domain/test-fixtures.ts'

const keyOf = (i: Key | Item) => `${String(i.pk)}|${String(i.sk)}`

/**
 * A table behind the BatchIo seam that writes as BatchWriteItem does: 25 items a request, each
 * request refused whole (nothing of it applied) when `refuse` says so for one of its items, earlier
 * requests of the call applied. `transient` makes the next N calls fail as a throttled request would.
 */
function fakeIo (refuse: (item: Item) => boolean) {
  const table = new Map<string, Item>()
  const log = { writes: 0, refused: 0, pksRead: new Set<string>(), pksWritten: new Set<string>() }
  let transient = 0
  const io: BatchIo = {
    getAll: async keys => {
      for (const k of keys) log.pksRead.add(k.pk)
      return keys.map(k => table.get(keyOf(k))).filter((i): i is Item => i !== undefined).map(i => structuredClone(i))
    },
    ...fakeLiveQueries(table),
    putAll: async (items, guard) => {
      if (transient > 0) { transient--; throw new DynamoRequestError('write', 8, 'throttled') }
      let requests = 0
      for (let n = 0; n < items.length; n += 25) {
        guard()
        requests++
        const chunk = items.slice(n, n + 25)
        if (chunk.some(refuse)) {
          log.refused++
          throw new DynamoRefusedError('write', 'ValidationException', Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $fault: 'client' }))
        }
        for (const i of chunk) { table.set(keyOf(i), structuredClone(i)); log.pksWritten.add(String(i.pk)) }
        log.writes++
      }
      return requests
    }
  }
  return { io, table, log, failNext: (n: number) => { transient = n } }
}

function record (c: FoldCommand, key: string | Buffer | null = c.command.userId): ReadRecord {
  return { partition: 0, offset: c.offset, key: key === null ? null : Buffer.isBuffer(key) ? key : Buffer.from(key), value: Buffer.from(encodeCommand(c.command)) }
}

function context (io: BatchIo) {
  const sent: Array<{ topic: string, key: string, headers?: Record<string, string> }> = []
  return {
    sent,
    deadLetters: () => sent.filter(s => s.topic === 'dlq').map(s => ({ offset: Number(s.headers!['dlq-origin-offset']), code: s.headers!['dlq-code'], reason: s.headers!['dlq-reason'] })),
    ctx: { topic: 'cmd', statusTopic: 'status', deadLetterTopic: 'dlq', io, guard: () => {}, send: async (topic: string, key: string, _v: unknown, headers?: Record<string, string>) => { sent.push({ topic, key, headers }) } }
  }
}

/** The oracle: each user's commands folded alone, in order, on test-fixtures' FakeTable. */
function expected (byUser: Map<string, FoldCommand[]>): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const [userId, list] of byUser) {
    const t = new FakeTable()
    t.run(list, userId)
    for (const [sk, item] of t.items) out.set(`${userPk(userId)}|${sk}`, item)
  }
  return out
}

const strip = (m: Map<string, unknown>) => new Map([...m].map(([k, v]) => { const { lastEvent: _, ...rest } = v as Record<string, unknown>; return [k, rest] }))

/** Three users' commands interleaved on one partition, offsets in order. */
function interleaved (users: string[], perUser: number, titleOf = (_u: string, _n: number) => 'ok') {
  const factories = new Map(users.map(u => [u, commandFactory(u)]))
  const all: FoldCommand[] = []
  let offset = 0
  for (let n = 0; n < perUser; n++) {
    for (const u of users) {
      const f = factories.get(u)!
      const c = f.cmd('reservation.create', { reservationId: f.nextId(), ...flight, title: titleOf(u, n) })
      all.push({ offset: offset++, command: c.command })
    }
  }
  return all
}
const byUserOf = (list: FoldCommand[]) => {
  const m = new Map<string, FoldCommand[]>()
  for (const c of list) m.set(c.command.userId, [...(m.get(c.command.userId) ?? []), c])
  return m
}

test('one user whose every write is refused for good: the others are applied, that user\'s commands are dead-lettered in order, the batch is done', async () => {
  const f = fakeIo(i => i.pk === userPk('mallory'))
  const commands = interleaved(['alice', 'mallory', 'bob', 'carol', 'dave'], 4)
  const { ctx, deadLetters } = context(f.io)
  const report = await processBatch(ctx, 0, commands.map(c => record(c)))

  const good = byUserOf(commands.filter(c => c.command.userId !== 'mallory'))
  expect(strip(new Map(f.table))).toEqual(strip(expected(good)))
  const mallory = commands.filter(c => c.command.userId === 'mallory').map(c => c.offset)
  expect(deadLetters()).toEqual([
    { offset: mallory[0]!, code: 'write_refused', reason: expect.stringContaining('ValidationException') },
    ...mallory.slice(1).map(offset => ({ offset, code: 'write_blocked', reason: expect.stringContaining(`offset ${mallory[0]}`) }))
  ])
  expect(report.outcomes.every(o => o.done)).toBe(true)
  expect(report.outcomes.length).toBe(commands.length)
  expect(report.applied).toBe(16)
  expect(report.refused).toBe(4)
  expect(report.refusals).toEqual([{ userId: 'mallory', offset: mallory[0]!, blocked: mallory.slice(1), errorName: 'ValidationException', message: expect.any(String) }])
  expect(report.poisonByKind.get('write_refused')).toBe(1)
  expect(report.poisonByKind.get('write_blocked')).toBe(3)
  expect(f.log.pksWritten.has(userPk('mallory'))).toBe(false)
  // Halving 5 users down to mallory, then her 4 commands down to the first: a handful of steps, not one per command.
  expect(report.refusedSteps).toBeLessThanOrEqual(6)
})

test('a refused command in the middle of a user\'s commands: the ones before it are applied, it and the ones after it are not (per-user order)', async () => {
  const f = fakeIo(i => i.title === 'TOO BIG')
  const commands = interleaved(['alice', 'bob', 'carol'], 9, (u, n) => u === 'bob' && n === 5 ? 'TOO BIG' : `t${n}`)
  const { ctx, deadLetters } = context(f.io)
  const report = await processBatch(ctx, 0, commands.map(c => record(c)))

  const bob = commands.filter(c => c.command.userId === 'bob')
  const kept = commands.filter(c => c.command.userId !== 'bob' || bob.indexOf(c) < 5)
  expect(strip(new Map(f.table))).toEqual(strip(expected(byUserOf(kept))))
  expect(deadLetters().map(d => [d.offset, d.code])).toEqual([[bob[5]!.offset, 'write_refused'], ...bob.slice(6).map(c => [c.offset, 'write_blocked'])])
  expect(report.applied).toBe(commands.length - 4)
  expect(report.events).toBe(commands.length - 4)
})

test('a transient failure is still retried as today: the batch throws (nothing dead-lettered, nothing done), and the next attempt applies all', async () => {
  const f = fakeIo(() => false)
  const commands = interleaved(['alice', 'bob'], 3)
  const first = context(f.io)
  f.failNext(1)
  const err = await processBatch(first.ctx, 0, commands.map(c => record(c))).catch(e => e)
  expect(err).toBeInstanceOf(DynamoRequestError)
  expect(err.canRetry).toBe(true)
  expect(first.sent).toEqual([])
  const second = context(f.io)
  const report = await processBatch(second.ctx, 0, commands.map(c => record(c)))
  expect(report.applied).toBe(6)
  expect(report.refusedSteps).toBe(0)
  expect(second.deadLetters()).toEqual([])
  expect(strip(new Map(f.table))).toEqual(strip(expected(byUserOf(commands))))
})

test('a transient failure while narrowing down a refusal stalls the batch (retried whole later), never dead-letters', async () => {
  const f = fakeIo(i => i.pk === userPk('mallory'))
  const commands = interleaved(['alice', 'mallory', 'bob'], 2)
  const { ctx, sent } = context(f.io)
  let calls = 0
  const io: BatchIo = { ...f.io, putAll: async (...a) => { if (++calls === 2) throw new DynamoRequestError('write', 8, 'throttled'); return f.io.putAll(...a) } }
  expect(await processBatch({ ...ctx, io }, 0, commands.map(c => record(c))).catch(e => e)).toBeInstanceOf(DynamoRequestError)
  expect(sent).toEqual([])
})

test('keys are checked before any DynamoDB call: no key, a 3 KB key, a key that is no user id, a key that is another user\'s: dead letters; the rest is applied', async () => {
  const f = fakeIo(() => false)
  const alice = commandFactory('alice')
  const mk = (offset: number, userId = 'alice') => ({ offset, command: alice.cmd('reservation.create', { reservationId: alice.nextId(), ...flight }, { userId }).command })
  const huge = 'x'.repeat(3072)
  const records = [
    record(mk(0), null),
    record(mk(1), huge),
    record(mk(2), 'not a user!'),
    record(mk(3), 'bob'),
    record(mk(4), Buffer.from([0xff, 0xfe, 0x61])),
    record(mk(5)),
    record(mk(6, 'bob'))
  ]
  const { ctx, deadLetters } = context(f.io)
  const report = await processBatch(ctx, 0, records)
  expect(deadLetters().map(d => [d.offset, d.code])).toEqual([[0, 'poison'], [1, 'poison'], [2, 'poison'], [3, 'poison'], [4, 'poison']])
  expect(deadLetters()[1]!.reason).toBe('key of 3072 bytes is not a user id (at most 64 characters A-Z a-z 0-9 _ -)')
  expect(deadLetters()[3]!.reason).toBe('message key bob is not the command\'s userId alice')
  expect([...report.poisonByKind]).toEqual([['no_key', 1], ['bad_key', 3], ['key_mismatch', 1]])
  expect(report.applied).toBe(2)
  expect([...f.log.pksRead, ...f.log.pksWritten].every(pk => pk === userPk('alice') || pk === userPk('bob'))).toBe(true)
  expect(f.log.pksWritten).toEqual(new Set([userPk('alice'), userPk('bob')]))
})
