import { fold, type FoldCommand, type FoldResult } from '../shared/domain/fold.ts'
import type { FoldItem } from '../shared/domain/items.ts'
import { GSI, tripGsiPk, userPk } from '../shared/domain/keys.ts'
import { followUpKeys, planLoads, type LoadPlan } from '../shared/domain/loads.ts'
import { decodeCommand, type Command } from '../shared/schemas/command.ts'
import { encodeStatusEvent } from '../shared/schemas/status-event.ts'
import { deadLetter, type DeadLetter } from './dead-letters.ts'
import type { Item, Key } from './dynamo-io.ts'
import type { RecordOutcome } from './offsets.ts'
import type { ReadRecord } from './partition-reader.ts'

/**
 * One batch of one partition, read to durable: decode and validate every record (a poison
 * record becomes a dead letter and never blocks), group by user (the message key), load what
 * the fold needs (BatchGetItem by key in rounds: the plan's keys, then follow-up keys, then
 * the byTrip Query's keys read again by key), fold each user, write every image
 * (BatchWriteItem), produce the status events and the dead letters and wait for their acks.
 * Only when all of that succeeded are the batch's records done; any failure throws and the
 * whole batch is retried later (replay is idempotent), so nothing past it is committed.
 */
export interface BatchIo {
  getAll (keys: readonly Key[]): Promise<Item[]>
  queryIndex (index: { name: string, pk: string, sk?: string }, pkValue: string): Promise<Item[]>
  putAll (items: readonly Item[], guard: () => void, unsettled?: Map<string, Item>): Promise<number>
}

export interface BatchContext {
  topic: string
  statusTopic: string
  deadLetterTopic: string
  io: BatchIo
  /** Sends one record and resolves on its ack (BatchingProducer.send). */
  send: (topic: string, key: string, value: string | Buffer, headers?: Record<string, string>) => Promise<unknown>
  /** Throws when this attempt may not write the partition (lease lost, attempt abandoned). Checked before each write request. */
  guard: () => void
  /** Writes of unknown outcome left by earlier attempts of this batch (see DynamoIo.putAll); shared by its attempts. */
  unsettled?: Map<string, Item>
}

export interface BatchReport {
  partition: number
  records: number
  applied: number
  skipped: number
  rejected: number
  poison: number
  itemsWritten: number
  writeRequests: number
  events: number
  deadLetters: DeadLetter[]
  /** One per record: all done once the batch returns (a failure throws instead). */
  outcomes: RecordOutcome[]
}

interface UserWork { userId: string, commands: FoldCommand[], plan: LoadPlan, items: Map<string, FoldItem> }

export async function processBatch (ctx: BatchContext, partition: number, records: readonly ReadRecord[]): Promise<BatchReport> {
  const deadLetters: DeadLetter[] = []
  const users = new Map<string, UserWork>()
  const origin = (offset: number) => ({ topic: ctx.topic, partition, offset })
  let poison = 0
  for (const r of records) {
    const key = r.key?.toString('utf8') ?? ''
    if (key === '') {
      poison++
      deadLetters.push(deadLetter(origin(r.offset), r.key, r.value, 'poison', 'message has no key (the owner user id)'))
      continue
    }
    const decoded = r.value ? decodeCommand(r.value) : { ok: false as const, reason: 'message has no value' }
    if (!decoded.ok) {
      poison++
      deadLetters.push(deadLetter(origin(r.offset), r.key, r.value, 'poison', decoded.reason))
      continue
    }
    let work = users.get(key)
    if (!work) { work = { userId: key, commands: [], plan: emptyPlan, items: new Map() }; users.set(key, work) }
    work.commands.push({ offset: r.offset, command: decoded.command })
  }

  await loadItems(ctx.io, [...users.values()])

  const results: Array<[UserWork, FoldResult]> = []
  for (const work of users.values()) results.push([work, fold(work.userId, work.items, work.commands)])

  const writes: Item[] = []
  for (const [, result] of results) for (const item of result.writes.values()) writes.push(item as unknown as Item)
  // An earlier attempt's unsettled writes are checked even when this one has nothing to write.
  const writeRequests = writes.length || ctx.unsettled?.size ? await ctx.io.putAll(writes, ctx.guard, ctx.unsettled) : 0

  let rejected = 0
  let skipped = 0
  let events = 0
  const sends: Array<Promise<unknown>> = []
  for (const [work, result] of results) {
    skipped += result.skipped.length
    for (const event of result.events) {
      events++
      sends.push(ctx.send(ctx.statusTopic, event.reservationId, encodeStatusEvent(event)))
    }
    const byOffset = new Map(work.commands.map(c => [c.offset, c.command]))
    for (const rej of result.rejected) {
      rejected++
      const command = byOffset.get(rej.offset) as Command
      const raw = records.find(r => r.offset === rej.offset)
      deadLetters.push(deadLetter(origin(rej.offset), raw?.key ?? null, raw?.value ?? null, rej.code, rej.reason, command.id))
    }
  }
  for (const d of deadLetters) sends.push(ctx.send(ctx.deadLetterTopic, d.key, d.value, d.headers))
  await Promise.all(sends)

  const decodedCount = records.length - poison
  return {
    partition,
    records: records.length,
    applied: decodedCount - rejected - skipped,
    skipped,
    rejected,
    poison,
    itemsWritten: writes.length,
    writeRequests,
    events,
    deadLetters,
    outcomes: records.map(r => ({ offset: r.offset, done: true }))
  }
}

const emptyPlan: LoadPlan = { keys: [], trips: [], reservationTrips: [], queryTrips: [] }

/** The updater's load rounds for every user of the batch at once (the same rounds as test-fixtures' FakeTable). */
async function loadItems (io: BatchIo, users: UserWork[]): Promise<void> {
  const byPk = new Map<string, UserWork>()
  for (const u of users) {
    u.plan = planLoads(u.commands.map(c => c.command))
    byPk.set(userPk(u.userId), u)
  }
  const read = async (keys: Key[]) => {
    if (keys.length === 0) return
    for (const item of await io.getAll(keys)) {
      const u = byPk.get(String(item.pk))
      if (u) u.items.set(String(item.sk), item as unknown as FoldItem)
    }
  }
  await read(users.flatMap(u => u.plan.keys.map(sk => ({ pk: userPk(u.userId), sk }))))
  await read(users.flatMap(u => followUpKeys(u.plan, u.items).map(sk => ({ pk: userPk(u.userId), sk }))))
  // byTrip lags the table: it only says which keys exist; their content is read again by key.
  const queried: Key[] = []
  await Promise.all(users.flatMap(u => u.plan.queryTrips.map(async tripId => {
    for (const hit of await io.queryIndex(GSI.byTrip, tripGsiPk(tripId))) {
      if (hit.pk === userPk(u.userId) && !u.items.has(String(hit.sk))) queried.push({ pk: String(hit.pk), sk: String(hit.sk) })
    }
  })))
  await read(queried)
}
