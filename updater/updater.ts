import { hostname } from 'node:os'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { partitionForKey } from '../shared/kafka/partitioner.ts'
import { deadLetterTopic } from '../shared/kafka/topics.ts'
import type { Logger } from '../shared/log/logger.ts'
import type { BatchReport } from './batch-processor.ts'
import { Committer } from './committer.ts'
import type { UpdaterSettings } from './config.ts'
import { DynamoIo } from './dynamo-io.ts'
import { Finisher } from './finisher.ts'
import { PartitionLease } from './lease.ts'
import { UpdaterMetrics } from './metrics.ts'
import { PartitionReader } from './partition-reader.ts'
import { PartitionWorker } from './partition-worker.ts'
import { ownedPartitions, ownershipFrom } from './partitions.ts'

export interface UpdaterDeps {
  log: Logger
  metrics?: UpdaterMetrics
  /** Client for reads and writes of the fold: its SDK retries must be off (maxAttempts 1). */
  dataDb: DynamoDBDocumentClient
  /** Client for leases and the finisher's queries (SDK retries on). */
  controlDb: DynamoDBDocumentClient
  onBatch?: (report: BatchReport) => void
  /** Instance name in leases; defaults to `updater-<index>@<host>/<pid>/<random>`. */
  owner?: string
}

/**
 * One updater process: owns the partitions its settings name, reads them with one fetch loop
 * (no consumer group membership), runs one PartitionWorker per partition (lease, batch, commit),
 * renews leases, runs the ended-trips task, and stops cleanly: the batch in hand is finished
 * and committed, leases released.
 */
export class Updater {
  readonly metrics: UpdaterMetrics
  readonly owner: string
  private readonly reader: PartitionReader
  private readonly producer: BatchingProducer
  private readonly io: DynamoIo
  private readonly committer: Committer
  private workers: PartitionWorker[] = []
  private leases: PartitionLease[] = []
  private owned: number[] = []
  private partitionCount = 0
  private stopping = false
  private started = false
  private fetchWake: (() => void) | undefined
  private loops: Array<Promise<void>> = []
  private timers: Array<ReturnType<typeof setInterval>> = []
  /** How long a write of unknown outcome is given to land before its keys are read back. */
  private readonly settleMs: number

  constructor (private readonly s: UpdaterSettings, private readonly d: UpdaterDeps) {
    this.metrics = d.metrics ?? new UpdaterMetrics()
    this.settleMs = 2 * s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS
    this.owner = d.owner ?? `updater-${s.UPDATER_PARTITIONS ? `p${s.UPDATER_PARTITIONS}` : s.UPDATER_INDEX}@${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`
    const brokers = s.KAFKA_BROKERS.split(',')
    this.reader = new PartitionReader({
      brokers, clientId: `${s.KAFKA_CLIENT_ID}-updater`, groupId: s.UPDATER_GROUP_ID, topic: s.TOPIC_COMMANDS,
      maxWaitMs: s.UPDATER_FETCH_MAX_WAIT_MS, maxBytesPerPartition: s.UPDATER_FETCH_MAX_BYTES_PER_PARTITION
    })
    this.producer = new BatchingProducer({ brokers, clientId: `${s.KAFKA_CLIENT_ID}-updater`, lingerMs: 2, maxBatchMessages: 1000, deadlineMs: 10_000, maxQueued: 200_000 })
    this.io = new DynamoIo(d.dataDb, {
      table: s.TABLE_NAME,
      concurrency: s.UPDATER_WRITE_CONCURRENCY,
      retry: { maxAttempts: s.UPDATER_WRITE_MAX_ATTEMPTS, baseMs: s.UPDATER_WRITE_BACKOFF_BASE_MS, maxMs: s.UPDATER_WRITE_BACKOFF_MAX_MS },
      settleMs: this.settleMs
    }, {
      onRequest: (op, seconds, ok) => {
        this.metrics.writeSeconds.observe({ operation: op, ok: String(ok) }, seconds)
        if (op === 'write') this.metrics.writeRequests.inc()
      },
      onRetry: (op, reason) => this.metrics.dynamoRetries.inc({ operation: op, reason }),
      onRepaired: n => this.metrics.repairedItems.inc({}, n)
    })
    this.committer = new Committer(offsets => this.reader.commit(offsets), ok => this.metrics.commits.inc({ result: ok ? 'ok' : 'failed' }))
  }

  get partitions (): readonly number[] { return this.owned }

  /** Per owned partition: running, stalled, refused, acquiring. */
  states (): Record<number, string> {
    return Object.fromEntries(this.workers.map(w => [w.partition, w.state]))
  }

  /** Ready: started, and every owned partition leased and not stalled (owning none is ready: nothing to do). */
  ready (): boolean {
    return this.started && !this.stopping && this.workers.every(w => w.ready)
  }

  async start (): Promise<void> {
    const s = this.s
    const dlq = deadLetterTopic(s.TOPIC_COMMANDS, 'updater')
    this.partitionCount = await this.reader.connect()
    if (this.partitionCount !== s.COMMAND_PARTITIONS) this.d.log.warn('updater_partition_count_differs', { topic: s.TOPIC_COMMANDS, configured: s.COMMAND_PARTITIONS, actual: this.partitionCount })
    this.owned = ownedPartitions(ownershipFrom(s), this.partitionCount)
    await this.producer.connect([s.TOPIC_STATUS, dlq, s.TOPIC_COMMANDS])
    this.d.log.info('updater_starting', { owner: this.owner, partitions: this.owned, of: this.partitionCount, group: s.UPDATER_GROUP_ID })
    const leaseRetryMs = Math.max(100, Math.floor(s.UPDATER_LEASE_TTL_MS / 4))
    for (const partition of this.owned) {
      const lease = new PartitionLease(this.d.controlDb, { table: s.TABLE_NAME, topic: s.TOPIC_COMMANDS, partition, group: s.UPDATER_GROUP_ID, owner: this.owner, ttlMs: s.UPDATER_LEASE_TTL_MS })
      this.leases.push(lease)
      this.workers.push(new PartitionWorker(
        { partition, batchMaxMessages: s.UPDATER_BATCH_MAX_MESSAGES, batchMaxWaitMs: s.UPDATER_BATCH_MAX_WAIT_MS, stallRetryMs: s.UPDATER_STALL_RETRY_MS, leaseRetryMs, batchDeadlineMs: s.UPDATER_BATCH_DEADLINE_MS,
          // An abandoned attempt ends within its read-back of unsettled writes plus a request or two.
          abandonGraceMs: this.settleMs + 2 * s.UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS },
        {
          log: this.d.log, metrics: this.metrics, lease, committer: this.committer,
          position: async p => (await this.reader.positions([p])).get(p) ?? 0,
          batch: {
            topic: s.TOPIC_COMMANDS, statusTopic: s.TOPIC_STATUS, deadLetterTopic: dlq, io: this.io,
            send: (topic, key, value, headers) => this.producer.send(topic, key, value, headers)
          },
          wake: () => this.wakeFetch(),
          onBatch: this.d.onBatch
        }))
    }
    for (const w of this.workers) w.start()
    this.started = true
    this.loops.push(this.fetchLoop())
    this.timers.push(setInterval(() => void this.renewLeases(), leaseRetryMs))
    this.timers.push(setInterval(() => void this.refreshLag(), 5000))
    if (s.UPDATER_FINISHER_INTERVAL_MS > 0) {
      const finisher = new Finisher({ commandTopic: s.TOPIC_COMMANDS, lookbackDays: s.UPDATER_FINISHER_LOOKBACK_DAYS, resendAfterMs: Math.max(10 * 60_000, s.UPDATER_FINISHER_INTERVAL_MS * 2) }, {
        queryIndex: (index, pk, sk) => this.io.queryIndex(index, pk, sk),
        send: (topic, key, value) => this.producer.send(topic, key, value),
        owns: userId => {
          const p = partitionForKey(userId, this.partitionCount)
          return this.leases.some(l => l.partition === p && l.isValid())
        },
        newId: createIdGenerator(),
        now: Date.now,
        log: this.d.log,
        onSent: () => this.metrics.finisherCommands.inc()
      })
      this.timers.push(setInterval(() => { if (!this.stopping) finisher.tick().catch(err => this.d.log.warn('updater_finisher_failed', { error: err as Error })) }, s.UPDATER_FINISHER_INTERVAL_MS))
    }
  }

  private wakeFetch (): void {
    const w = this.fetchWake
    this.fetchWake = undefined
    w?.()
  }

  /** One fetch at a time, for the partitions whose worker wants records. */
  private async fetchLoop (): Promise<void> {
    while (!this.stopping) {
      const hungry = this.workers.filter(w => w.hungry)
      if (hungry.length === 0) {
        await new Promise<void>(resolve => {
          const t = setTimeout(resolve, 100)
          this.fetchWake = () => { clearTimeout(t); resolve() }
        })
        continue
      }
      try {
        const res = await this.reader.fetch(new Map(hungry.map(w => [w.partition, w.fetchPosition!])))
        for (const w of hungry) {
          const reset = res.resets.get(w.partition)
          if (reset !== undefined) w.resetTo(reset)
          w.deliver(res.records.get(w.partition) ?? [])
          const hw = res.highWatermarks.get(w.partition)
          if (hw !== undefined) this.metrics.lag.set({ partition: w.partition }, Math.max(0, hw - w.position))
        }
      } catch (err) {
        if (this.stopping) break
        this.d.log.warn('updater_fetch_failed', { error: err as Error })
        await Bun.sleep(500)
      }
    }
  }

  private renewing = false
  private async renewLeases (): Promise<void> {
    if (this.renewing) return
    this.renewing = true
    try { await this.renewAll() } finally { this.renewing = false }
  }

  private async renewAll (): Promise<void> {
    await Promise.all(this.leases.map(async lease => {
      if (!lease.isHeld() || this.stopping) return
      try {
        await lease.renew()
      } catch (err) {
        this.d.log.warn('updater_lease_renew_failed', { partition: lease.partition, error: err as Error })
      }
    }))
  }

  private async refreshLag (): Promise<void> {
    try {
      const ends = await this.reader.endOffsets(this.owned)
      for (const w of this.workers) {
        const end = ends.get(w.partition)
        if (end !== undefined && w.state !== 'refused') this.metrics.lag.set({ partition: w.partition }, Math.max(0, end - w.position))
      }
    } catch {}
  }

  /** SIGTERM: finish the batch in hand, commit, release the leases, close. */
  async stop (): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    for (const t of this.timers) clearInterval(t)
    this.wakeFetch()
    await Promise.all(this.workers.map(w => w.stop()))
    await Promise.all(this.loops)
    await Promise.allSettled(this.leases.map(l => l.release()))
    await this.producer.close().catch(err => this.d.log.warn('updater_producer_close_failed', { error: err as Error }))
    await this.reader.close()
    this.d.log.info('updater_stopped', { owner: this.owner })
  }
}
