import type { Logger } from '../shared/log/logger.ts'
import { processBatch, type BatchContext, type BatchReport } from './batch-processor.ts'
import type { Committer } from './committer.ts'
import type { Item } from './dynamo-io.ts'
import { BatchAbandonedError, LeaseLostError, LeaseRefusedError } from './errors.ts'
import type { PartitionLease } from './lease.ts'
import type { UpdaterMetrics } from './metrics.ts'
import { nextCommitOffset } from './offsets.ts'
import type { ReadRecord } from './partition-reader.ts'

export type WorkerState = 'acquiring' | 'refused' | 'running' | 'stalled' | 'stopped'

export interface WorkerOptions {
  partition: number
  batchMaxMessages: number
  batchMaxWaitMs: number
  stallRetryMs: number
  leaseRetryMs: number
  /** A batch (fold, writes, events, commit) not done by then counts as failed and is retried. */
  batchDeadlineMs: number
  /**
   * How long an attempt given up at the deadline may take to end (its requests time out, its
   * read-back of unsettled writes finishes) before the next attempt starts regardless.
   */
  abandonGraceMs: number
}

export interface WorkerDeps {
  log: Logger
  metrics: UpdaterMetrics
  lease: PartitionLease
  committer: Committer
  /** Committed position (next offset) of the partition, read after the lease is taken. */
  position: (partition: number) => Promise<number>
  batch: Omit<BatchContext, 'guard'>
  /** Tells the fetch loop this partition wants records. */
  wake: () => void
  onBatch?: (report: BatchReport) => void
}

/**
 * One owned partition: takes its lease, then loops over batches (records the fetch loop put in
 * its buffer): process, commit, next. A batch that fails is kept and retried after
 * `stallRetryMs` (the partition reports stalled, hence not ready) until it succeeds, the lease
 * is lost or the updater stops; nothing after it is taken and nothing past it is committed. A
 * write DynamoDB refuses for good does not fail the batch: processBatch dead-letters the commands
 * that cause it and applies the rest (isolation.ts).
 */
export class PartitionWorker {
  state: WorkerState = 'acquiring'
  /** Next offset to fetch, known while running. */
  fetchPosition: number | undefined
  /** Next offset to process (= committed once a batch is done). */
  position = 0
  private buffer: ReadRecord[] = []
  private stopping = false
  private signal: (() => void) | undefined
  private refusedBy = ''
  private done: Promise<void> | undefined
  /**
   * Writes of unknown outcome not yet checked, carried from a failed attempt to the next one
   * (see DynamoIo.putAll), across a lapse of the lease that ends in keeping it too. A lease taken
   * anew drops them: another updater may have written since, and they have long settled.
   */
  private readonly unsettled = new Map<string, Item>()
  /** Users of the batch in hand whose write DynamoDB refused for good, carried across its attempts (see isolation.ts). */
  private readonly refusedUsers = new Set<string>()

  constructor (private readonly o: WorkerOptions, private readonly d: WorkerDeps) {}

  get partition (): number { return this.o.partition }
  get hungry (): boolean {
    return this.state === 'running' && !this.stopping && this.fetchPosition !== undefined && this.buffer.length < this.o.batchMaxMessages && this.d.lease.isValid()
  }
  get ready (): boolean { return this.state === 'running' }

  start (): void { this.done = this.run() }

  /** Finishes the batch in hand (if it can), commits it, and stops. */
  async stop (): Promise<void> {
    this.stopping = true
    this.poke()
    await this.done
  }

  /** Records fetched from `fetchPosition` on. */
  deliver (records: ReadRecord[]): void {
    if (this.state !== 'running' || records.length === 0) return
    if (records[0]!.offset < (this.fetchPosition ?? 0)) records = records.filter(r => r.offset >= this.fetchPosition!)
    if (records.length === 0) return
    this.buffer.push(...records)
    this.fetchPosition = records[records.length - 1]!.offset + 1
    this.poke()
  }

  /** Retention moved the log start past our position. */
  resetTo (offset: number): void {
    if (this.fetchPosition !== undefined && offset > this.fetchPosition) {
      this.d.log.warn('updater_position_reset', { partition: this.partition, from: this.fetchPosition, to: offset })
      this.fetchPosition = offset
      this.position = Math.max(this.position, offset)
    }
  }

  private poke (): void {
    const s = this.signal
    this.signal = undefined
    s?.()
  }

  private wait (ms: number): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(() => { this.signal = undefined; resolve() }, ms)
      this.signal = () => { clearTimeout(t); resolve() }
    })
  }

  private async run (): Promise<void> {
    const p = this.partition
    const labels = { partition: p }
    while (!this.stopping) {
      // 'acquiring' too: the renewal timer can make a lapsed lease valid again while this worker
      // still has to re-read its position and start fetching (else it would idle, silent, forever).
      if (!this.d.lease.isValid() || this.state === 'acquiring') {
        this.d.metrics.leaseHeld.set(labels, 0)
        if (this.state === 'running' || this.state === 'stalled') this.d.log.warn('updater_lease_lapsed', { partition: p, note: 'stopped writing this partition' })
        this.buffer = []
        this.fetchPosition = undefined
        if (!(await this.acquire())) { await this.wait(this.o.leaseRetryMs); continue }
      }
      const batch = await this.take()
      if (!batch) continue
      await this.runBatch(batch)
    }
    this.state = 'stopped'
  }

  /** Takes the lease and learns the committed position; false when refused or failed. */
  private async acquire (): Promise<boolean> {
    const p = this.partition
    try {
      // Bounded like a batch: a call that never answers must end in a retry, not a silent partition.
      const position = await withDeadline(this.o.batchDeadlineMs, `taking partition ${p}`, async () => {
        // Keeps the lease if it is ours and nobody took it meanwhile (a lapse during a DynamoDB outage).
        if (this.d.lease.isHeld()) await this.d.lease.renew()
        else {
          this.unsettled.clear()
          const epoch = await this.d.lease.acquire()
          this.d.log.info('updater_lease_acquired', { partition: p, epoch })
        }
        return this.d.position(p)
      })
      this.position = position
      this.fetchPosition = this.position
      this.buffer = []
      this.state = 'running'
      this.refusedBy = ''
      this.d.metrics.leaseHeld.set({ partition: p }, 1)
      this.d.wake()
      return true
    } catch (err) {
      if (err instanceof LeaseRefusedError) {
        this.state = 'refused'
        const who = `${err.holder.owner}#${err.holder.epoch}`
        if (who !== this.refusedBy) this.d.log.warn('updater_lease_refused', { partition: p, holder: err.holder.owner, epoch: err.holder.epoch, leaseUntil: err.holder.leaseUntil, note: 'another updater owns this partition: not processing it' })
        this.refusedBy = who
      } else if (err instanceof LeaseLostError) {
        this.state = 'acquiring'
        this.d.log.warn('updater_lease_lost', { partition: p, holder: err.holder })
      } else {
        this.state = 'acquiring'
        this.d.log.warn('updater_lease_error', { partition: p, error: err as Error })
      }
      return false
    }
  }

  /** Up to batchMaxMessages records, waiting batchMaxWaitMs for a batch to fill once one arrived. */
  private async take (): Promise<ReadRecord[] | undefined> {
    if (this.stopping) return undefined
    if (this.buffer.length === 0) {
      this.d.wake()
      await this.wait(1000)
      if (this.buffer.length === 0) return undefined
    }
    const deadline = performance.now() + this.o.batchMaxWaitMs
    while (this.buffer.length < this.o.batchMaxMessages && !this.stopping) {
      const left = deadline - performance.now()
      if (left <= 0) break
      this.d.wake()
      await this.wait(left)
    }
    if (!this.d.lease.isValid()) return undefined
    return this.buffer.splice(0, this.o.batchMaxMessages)
  }

  private async runBatch (batch: ReadRecord[]): Promise<void> {
    const p = this.partition
    const labels = { partition: p }
    const t0 = performance.now()
    this.refusedUsers.clear()
    this.d.wake() // fetch the next batch meanwhile
    for (let attempt = 0; ; attempt++) {
      try {
        const report = await this.attempt(batch)
        if (this.state === 'stalled') this.d.log.info('updater_partition_resumed', { partition: p, attempts: attempt + 1 })
        this.state = 'running'
        this.d.metrics.stalled.set(labels, 0)
        this.record(report, (performance.now() - t0) / 1000)
        return
      } catch (err) {
        if (err instanceof LeaseLostError || !this.d.lease.isValid()) {
          this.d.log.warn('updater_batch_abandoned', { partition: p, reason: 'lease', from: batch[0]!.offset })
          this.state = 'acquiring'
          return
        }
        this.state = 'stalled'
        this.d.metrics.stalled.set(labels, 1)
        this.d.log.error('updater_batch_failed', { partition: p, from: batch[0]!.offset, to: batch[batch.length - 1]!.offset, attempt: attempt + 1, retryInMs: this.o.stallRetryMs, error: err as Error })
        if (this.stopping) return
        await this.wait(this.o.stallRetryMs)
        if (this.stopping) return
      }
    }
  }

  /**
   * One attempt at a batch: process, then commit. A call that never answers (a client callback
   * lost, a socket that neither closes nor times out) must stall the partition visibly, not
   * freeze it, so the attempt is bounded by the batch deadline. Past it the attempt is abandoned:
   * its guard refuses every further write and the commit, and the next attempt starts only once
   * it has ended (its requests time out on their own) or after abandonGraceMs. Two attempts of a
   * batch never write side by side, and an abandoned one never puts its images back over what a
   * later batch wrote.
   */
  private async attempt (batch: ReadRecord[]): Promise<BatchReport> {
    const p = this.partition
    let abandoned = false
    const guard = () => {
      if (abandoned) throw new BatchAbandonedError(p)
      this.d.lease.check()
    }
    const work = (async () => {
      const r = await processBatch({ ...this.d.batch, guard, unsettled: this.unsettled, refused: this.refusedUsers }, p, batch)
      const next = nextCommitOffset(this.position, r.outcomes)
      if (next !== undefined) {
        guard()
        await this.d.committer.commit(p, next)
        this.position = next
      }
      return r
    })()
    const what = `batch ${batch[0]!.offset}-${batch[batch.length - 1]!.offset}`
    try {
      return await withDeadline(this.o.batchDeadlineMs, what, () => work)
    } catch (err) {
      if (!(err instanceof BatchDeadlineError)) throw err
      abandoned = true
      const ended = await withDeadline(this.o.abandonGraceMs, what, () => work.then(r => r, () => undefined)).catch(() => 'running' as const)
      // Done and committed just past the deadline: nothing to retry.
      if (ended !== undefined && ended !== 'running') return ended
      if (ended === 'running') this.d.log.warn('updater_abandoned_attempt_running', { partition: p, batch: what, afterMs: this.o.batchDeadlineMs + this.o.abandonGraceMs, note: 'retrying beside it; it may not write any more' })
      throw err
    }
  }

  private record (r: BatchReport, seconds: number): void {
    const m = this.d.metrics
    m.batchSize.observe({}, r.records)
    m.batchSeconds.observe({}, seconds)
    m.commands.inc({ result: 'applied' }, r.applied)
    m.commands.inc({ result: 'skipped' }, r.skipped)
    m.commands.inc({ result: 'rejected' }, r.rejected)
    m.commands.inc({ result: 'poison' }, r.poison)
    m.commands.inc({ result: 'refused' }, r.refused)
    for (const [reason, n] of r.poisonByKind) m.poison.inc({ reason }, n)
    m.refusedSteps.inc({}, r.refusedSteps)
    for (const f of r.refusals) this.d.log.error('updater_write_refused', { partition: r.partition, user: f.userId, offset: f.offset, blocked: f.blocked, error: f.errorName, message: f.message, note: 'dead-lettered with the same user\'s later commands of the batch; the rest of the batch is applied' })
    m.itemsWritten.inc({}, r.itemsWritten)
    m.eventsProduced.inc({}, r.events)
    for (const dl of r.deadLetters) m.deadLetters.inc({ reason: dl.headers['dlq-code'] ?? 'unknown' })
    for (const dl of r.deadLetters) this.d.log.warn('updater_dead_letter', { partition: r.partition, offset: Number(dl.headers['dlq-origin-offset']), code: dl.headers['dlq-code'], reason: dl.headers['dlq-reason'] })
    this.d.onBatch?.(r)
  }
}

export class BatchDeadlineError extends Error {
  readonly canRetry = true
  constructor (what: string, ms: number) { super(`${what} not done within ${ms} ms`); this.name = 'BatchDeadlineError' }
}

async function withDeadline<T> (ms: number, what: string, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([work(), new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new BatchDeadlineError(what, ms)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}
