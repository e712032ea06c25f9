/**
 * Runs a command log through the production path (updater/batch-processor.ts processBatch: decode,
 * readLoads, fold, putAll, status events, dead letters) against an in-memory table, with random
 * batch cuts and crashes: a crash writes a random part of the batch's items (BatchWriteItem is not
 * atomic) or produces part of its events, then throws; the partition restarts from its last commit,
 * which may lag behind what was processed (a replay of whole earlier batches).
 */
import fc from 'fast-check'
import { processBatch, type BatchIo } from '../../updater/batch-processor.ts'
import type { Item, Key } from '../../updater/dynamo-io.ts'
import type { ReadRecord } from '../../updater/partition-reader.ts'
import { fakeLiveQueries } from '../../shared/domain/test-fixtures.ts'
import { encodeCommand, type Command } from '../../shared/schemas/command.ts'
import { decodeStatusEvent, type StatusEvent } from '../../shared/schemas/status-event.ts'

export const BASE_OFFSET = 100

/** One attempt: how many records it reads, and how it ends. */
export interface Attempt {
  size: number
  /** none; crash in the write (part of the items written); crash in the produce (part of the events sent); done but not committed. */
  end: 'ok' | 'write-crash' | 'send-crash' | 'uncommitted'
  /** How far before the last processed offset the restart begins (a commit that lagged). */
  rewind: number
  seed: number
  /** For fixed cases: which items a write-crash writes (by sort key), instead of a random half. */
  keep?: (sk: string) => boolean
}

export const attemptArb: fc.Arbitrary<Attempt> = fc.record({
  size: fc.integer({ min: 1, max: 7 }),
  end: fc.constantFrom<Attempt['end']>('ok', 'ok', 'ok', 'write-crash', 'send-crash', 'uncommitted'),
  rewind: fc.nat(4),
  seed: fc.nat()
})

/** mulberry32: a small seeded generator, so a shrunk counterexample replays exactly. */
function prng (seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface RunResult {
  table: Map<string, Record<string, unknown>>
  events: StatusEvent[]
  deadLetters: Array<{ offset: number, code: string }>
  attempts: number
}

const keyOf = (i: Key | Item) => `${String(i.pk)}|${String(i.sk)}`

class Crash extends Error {}

export async function runUpdater (commands: readonly Command[], attempts: readonly Attempt[]): Promise<RunResult> {
  const table = new Map<string, Record<string, unknown>>()
  const events: StatusEvent[] = []
  const deadLetters: RunResult['deadLetters'] = []
  let mode: { end: Attempt['end'], random: () => number, keep?: (sk: string) => boolean } = { end: 'ok', random: Math.random }
  const io: BatchIo = {
    getAll: async keys => keys.map(k => table.get(keyOf(k))).filter((i): i is Item => i !== undefined).map(i => structuredClone(i)),
    ...fakeLiveQueries(table),
    putAll: async (items) => {
      for (const item of items) {
        if (mode.end === 'write-crash' && !(mode.keep ? mode.keep(String(item.sk)) : mode.random() < 0.5)) continue
        table.set(keyOf(item), structuredClone(item))
      }
      if (mode.end === 'write-crash') throw new Crash('crash while writing')
      return Math.ceil(items.length / 25)
    }
  }
  const send = async (topic: string, _key: string, value: string | Buffer, headers?: Record<string, string>) => {
    if (mode.end === 'send-crash' && mode.random() < 0.5) throw new Crash('crash while producing')
    if (topic === 'status') {
      const d = decodeStatusEvent(value)
      if (!d.ok) throw new Error(`undecodable status event: ${d.reason}`)
      events.push(d.event)
    } else if (topic === 'dlq') {
      deadLetters.push({ offset: Number(headers!['dlq-origin-offset']), code: headers!['dlq-code']! })
    }
  }
  const records: ReadRecord[] = commands.map((c, n) => ({
    partition: 0, offset: BASE_OFFSET + n, key: Buffer.from(c.userId), value: Buffer.from(encodeCommand(c))
  }))
  let next = 0
  let n = 0
  // Past the planned attempts, clean batches of 5 finish the log.
  for (; next < records.length; n++) {
    const plan: Attempt = attempts[n] ?? { size: 5, end: 'ok', rewind: 0, seed: 0 }
    mode = { end: plan.end, random: prng(plan.seed), keep: plan.keep }
    const batch = records.slice(next, next + plan.size)
    try {
      await processBatch({ topic: 'cmd', statusTopic: 'status', deadLetterTopic: 'dlq', io, send, guard: () => {} }, 0, batch)
      next += batch.length
      if (plan.end === 'uncommitted') next = Math.max(0, next - plan.rewind - 1)
    } catch (e) {
      if (!(e instanceof Crash)) throw e
      next = Math.max(0, next - plan.rewind)
    }
    if (n > 10_000) throw new Error('the run does not end')
  }
  return { table, events, deadLetters, attempts: n }
}
