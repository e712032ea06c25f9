import { fold, type FoldCommand, type FoldResult } from '../shared/domain/fold.ts'
import type { FoldItem } from '../shared/domain/items.ts'
import { emptyLiveIndex, readLoads, type LiveIndex } from '../shared/domain/loads.ts'
import { decodeCommand } from '../shared/schemas/command.ts'
import { encodeStatusEvent } from '../shared/schemas/status-event.ts'
import { deadLetter, type DeadLetter } from './dead-letters.ts'
import type { Item, Key } from './dynamo-io.ts'
import { applyIsolated, type UserCommands } from './isolation.ts'
import type { RecordOutcome } from './offsets.ts'
import { recordExpiry } from './expiry.ts'
import type { ReadRecord } from './partition-reader.ts'
import { keyProblem, ownerProblem, type PoisonKind } from './record-checks.ts'

/**
 * One batch of one partition, read to durable: check every record's key (a user id, the
 * command's own), decode and validate it (a poison record becomes a dead letter, never reaches
 * DynamoDB and never blocks), group by user (the message key), load what
 * the fold needs (loads.ts readLoads: BatchGetItem by key and consistent Queries of the `live`
 * local index, in rounds), fold each user, write every image
 * (BatchWriteItem), produce the status events and the dead letters and wait for their acks.
 * Only when all of that succeeded are the batch's records done; any failure throws and the
 * whole batch is retried later (replay is idempotent), so nothing past it is committed. The one
 * exception is a request DynamoDB refuses for good (DynamoRefusedError): the batch is then
 * narrowed down to the commands whose write is refused (isolation.ts), which are dead-lettered
 * (`write_refused`, and `write_blocked` for the same user's later commands), and the rest applied.
 */
export interface BatchIo {
  getAll (keys: readonly Key[]): Promise<Item[]>
  /** Consistent Query of the `live` local index (DynamoIo.queryLive / countLive). */
  queryLive (pkValue: string, skPrefix: string): Promise<Item[]>
  countLive (pkValue: string, skPrefix: string, status?: string): Promise<number>
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
  /** Users whose write DynamoDB refused in earlier attempts of this batch (isolation.ts); shared by its attempts. */
  refused?: Set<string>
}

export interface BatchReport {
  partition: number
  records: number
  applied: number
  skipped: number
  rejected: number
  poison: number
  /** Commands the broker appended after their deadline (the API answered 503): dead letters `expired`. */
  expired: number
  /** Commands dead-lettered because DynamoDB refused their write for good, or not tried after one (see isolation.ts). */
  refused: number
  itemsWritten: number
  writeRequests: number
  events: number
  deadLetters: DeadLetter[]
  /** Dead letters of records that could not be folded (key, value, owner) and of refused writes, by kind. */
  poisonByKind: Map<PoisonKind | 'write_refused' | 'write_blocked', number>
  /** Users whose write DynamoDB refused for good, with the command refused and those not tried after it. */
  refusals: Array<{ userId: string, offset: number, blocked: number[], errorName: string, message: string }>
  /** Load, fold and write steps refused on the way to isolating them (0 when nothing was refused). */
  refusedSteps: number
  /** One per record: all done once the batch returns (a failure throws instead). */
  outcomes: RecordOutcome[]
}

interface UserWork { userId: string, commands: FoldCommand[], items: Map<string, FoldItem>, index: LiveIndex }

export async function processBatch (ctx: BatchContext, partition: number, records: readonly ReadRecord[]): Promise<BatchReport> {
  const deadLetters: DeadLetter[] = []
  const users = new Map<string, UserCommands>()
  const origin = (offset: number) => ({ topic: ctx.topic, partition, offset })
  const poisonByKind: BatchReport['poisonByKind'] = new Map()
  const count = (kind: PoisonKind | 'write_refused' | 'write_blocked', n = 1) => { if (n > 0) poisonByKind.set(kind, (poisonByKind.get(kind) ?? 0) + n) }
  let poison = 0
  let expired = 0
  for (const r of records) {
    // Checked before anything reaches DynamoDB: the key becomes the partition key of every read and write.
    const problem = keyProblem(r.key)
    if (problem) {
      poison++
      count(problem.kind)
      deadLetters.push(deadLetter(origin(r.offset), r.key, r.value, 'poison', problem.reason))
      continue
    }
    const key = r.key!.toString('utf8')
    const decoded = r.value ? decodeCommand(r.value) : { ok: false as const, reason: 'message has no value' }
    if (!decoded.ok) {
      poison++
      count('undecodable')
      deadLetters.push(deadLetter(origin(r.offset), r.key, r.value, 'poison', decoded.reason))
      continue
    }
    const stranger = ownerProblem(key, decoded.command)
    if (stranger) {
      poison++
      count(stranger.kind)
      deadLetters.push(deadLetter(origin(r.offset), r.key, r.value, 'poison', stranger.reason, decoded.command.id))
      continue
    }
    // 503 means not written: landed after its deadline, so never applied and no status event.
    const expiry = recordExpiry(r)
    if (expiry.verdict === 'expired') {
      expired++
      deadLetters.push(deadLetter(origin(r.offset), r.key, r.value, 'expired', expiry.reason, decoded.command.id))
      continue
    }
    let work = users.get(key)
    if (!work) { work = { userId: key, commands: [] }; users.set(key, work) }
    work.commands.push({ offset: r.offset, command: decoded.command })
  }

  let itemsWritten = 0
  let writeRequests = 0
  // One load, fold and write of some users' commands, from what the table holds now. The whole
  // batch is one step unless DynamoDB refuses a request for good; then applyIsolated narrows it down.
  const step = async (group: UserCommands[]): Promise<Array<[UserWork, FoldResult]>> => {
    const works: UserWork[] = group.map(u => ({ userId: u.userId, commands: u.commands, items: new Map(), index: emptyLiveIndex() }))
    await loadItems(ctx.io, works)
    const results: Array<[UserWork, FoldResult]> = works.map(w => [w, fold(w.userId, w.items, w.commands, w.index)])
    const writes: Item[] = []
    for (const [, result] of results) for (const item of result.writes.values()) writes.push(item as unknown as Item)
    // An earlier attempt's unsettled writes are checked even when this one has nothing to write.
    writeRequests += writes.length || ctx.unsettled?.size ? await ctx.io.putAll(writes, ctx.guard, ctx.unsettled) : 0
    itemsWritten += writes.length
    return results
  }
  const isolated = await applyIsolated({ step, refused: ctx.refused }, [...users.values()])

  const byOffset = new Map(records.map(r => [r.offset, r]))
  let rejected = 0
  let skipped = 0
  let events = 0
  const sends: Array<Promise<unknown>> = []
  for (const results of isolated.steps) {
    for (const [work, result] of results) {
      skipped += result.skipped.length
      for (const event of result.events) {
        events++
        sends.push(ctx.send(ctx.statusTopic, event.reservationId, encodeStatusEvent(event)))
      }
      const commands = new Map(work.commands.map(c => [c.offset, c.command]))
      for (const rej of result.rejected) {
        rejected++
        const raw = byOffset.get(rej.offset)
        deadLetters.push(deadLetter(origin(rej.offset), raw?.key ?? null, raw?.value ?? null, rej.code, rej.reason, commands.get(rej.offset)?.id))
      }
    }
  }
  let refused = 0
  const refusals: BatchReport['refusals'] = []
  for (const f of isolated.refusals) {
    const commands = new Map(users.get(f.userId)!.commands.map(c => [c.offset, c.command]))
    const cause = f.error.cause as Error | undefined
    const message = String(cause?.message ?? f.error.message).slice(0, 500)
    refusals.push({ userId: f.userId, offset: f.offset, blocked: f.blocked, errorName: f.error.errorName, message })
    const letter = (offset: number, code: string, reason: string) => {
      refused++
      const raw = byOffset.get(offset)
      deadLetters.push(deadLetter(origin(offset), raw?.key ?? null, raw?.value ?? null, code, reason, commands.get(offset)?.id))
    }
    letter(f.offset, 'write_refused', `DynamoDB refused the write for good (${f.error.errorName}: ${message})`)
    for (const offset of f.blocked) letter(offset, 'write_blocked', `not tried: command at offset ${f.offset} of the same user was refused before it (${f.error.errorName}); one user's commands stay in order`)
    count('write_refused')
    count('write_blocked', f.blocked.length)
  }
  for (const d of deadLetters) sends.push(ctx.send(ctx.deadLetterTopic, d.key, d.value, d.headers))
  await Promise.all(sends)

  const decodedCount = records.length - poison
  return {
    partition,
    records: records.length,
    applied: decodedCount - expired - rejected - skipped - refused,
    skipped,
    rejected,
    poison,
    expired,
    refused,
    itemsWritten,
    writeRequests,
    events,
    deadLetters,
    poisonByKind,
    refusals,
    refusedSteps: isolated.refusedSteps,
    outcomes: records.map(r => ({ offset: r.offset, done: true }))
  }
}

/** The updater's load rounds for every user of the batch at once (loads.ts readLoads; test-fixtures' FakeTable does the same). */
async function loadItems (io: BatchIo, users: UserWork[]): Promise<void> {
  await readLoads(io, users)
}
