import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type Message, type MessagesStream } from '@platformatic/kafka'
import type { Logger } from '../shared/log/logger.ts'
import { KeyedRunner } from './keyed-runner.ts'
import type { NotifierMetrics } from './metrics.ts'
import { PartitionTracker } from './offsets.ts'
import type { StatusRecord } from './processor.ts'
import { sleep } from './retry.ts'

export interface StatusConsumerOptions {
  brokers: string[]
  clientId: string
  groupId: string
  topic: string
  sessionTimeoutMs: number
  heartbeatMs: number
  maxWaitMs: number
  /** Reservations (keys) processed at once per partition. */
  keysInFlight: number
  /** Records read and not done before reading pauses. */
  maxBuffered: number
  commitIntervalMs: number
  lagIntervalMs?: number
  /** Label of this consumer's metrics: `status` (the status lane) or `webhooks` (the webhook lane). */
  name: string
}

type Handler = (r: StatusRecord, signal: AbortSignal) => Promise<unknown>

interface Lane {
  tracker: PartitionTracker
  runner: KeyedRunner<StatusRecord>
}

/**
 * A consumer group on the status topic (or, the same way, on the webhook topic: webhook-worker.ts). Starts from the group's committed offsets, or from the
 * beginning of the (compacted) topic when the group has none: the library's default start is
 * the latest offset, which would skip everything written before the first notifier joined.
 * Each partition has a lane: a KeyedRunner (each reservation in order, several at once) and a
 * PartitionTracker; offsets are committed manually, every commitIntervalMs and on shutdown, from
 * the tracker (offsets.ts: never past a record not done). When the group takes partitions away,
 * their records not started are dropped (the new owner reads them from the last commit).
 */
export class StatusConsumer {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
  private readonly lanes = new Map<number, Lane>()
  private buffered = 0
  private paused = false
  private stopping = false
  private commitTimer: ReturnType<typeof setInterval> | undefined
  private committing: Promise<void> | undefined
  private readonly abort = new AbortController()
  private joined = false

  constructor(
    private readonly o: StatusConsumerOptions,
    private readonly handle: Handler,
    private readonly metrics: NotifierMetrics,
    private readonly log: Logger,
  ) {
    this.consumer = new Consumer({
      clientId: o.clientId,
      groupId: o.groupId,
      bootstrapBrokers: o.brokers,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: Math.max(o.sessionTimeoutMs, 30_000),
      heartbeatInterval: o.heartbeatMs,
      maxWaitTime: o.maxWaitMs,
      autocommit: false,
      timeout: 10_000,
      retries: 5,
      retryDelay: 500,
    })
    this.consumer.on('consumer:group:join', (p) => this.onJoin(p.assignments))
    this.consumer.on('consumer:lag', (lag) => {
      const parts = lag.get(o.topic) ?? []
      parts.forEach((l, partition) => {
        if (l >= 0n) this.metrics.lag.set({ consumer: o.name, partition }, Number(l))
      })
    })
    this.metrics.inFlight.set({ consumer: o.name }, 0)
  }

  async start(): Promise<void> {
    await this.openStream()
    this.commitTimer = setInterval(() => void this.commit(), this.o.commitIntervalMs)
    this.consumer.startLagMonitoring({ topics: [this.o.topic] }, this.o.lagIntervalMs ?? 5000)
  }

  /** Joined the group, reading, not stopping. */
  ready(): boolean {
    return !this.stopping && this.joined && this.consumer.isActive() && !!this.stream && !this.stream.destroyed
  }

  get inFlight(): number {
    return this.buffered
  }

  /**
   * Shutdown: stop reading, drop records not started, let the ones in progress finish (their
   * deliveries complete) for up to `finishMs`, then abort what is left (claims released, records
   * left undone), commit, leave the group.
   */
  async stop(finishMs: number): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.stream?.pause()
    for (const lane of this.lanes.values()) this.drop(lane)
    const timer = setTimeout(() => this.abort.abort(), finishMs)
    await Promise.all([...this.lanes.values()].map((l) => l.runner.idle()))
    clearTimeout(timer)
    clearInterval(this.commitTimer)
    this.consumer.stopLagMonitoring()
    await this.committing
    await this.commit()
    await this.stream?.close().catch(() => {})
    await this.consumer.close(true).catch((error) => this.log.warn('notifier_consumer_close_failed', { error }))
  }

  private async openStream(): Promise<void> {
    const stream = await this.consumer.consume({
      topics: [this.o.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      maxWaitTime: this.o.maxWaitMs,
      sessionTimeout: this.o.sessionTimeoutMs,
      heartbeatInterval: this.o.heartbeatMs,
      rebalanceTimeout: Math.max(this.o.sessionTimeoutMs, 30_000),
    })
    this.stream = stream
    this.joined = true
    stream.on('data', (m) => this.onMessage(m))
    stream.on('error', (error) => this.log.error('notifier_stream_error', { error }))
    stream.on('close', () => {
      if (this.stopping || this.stream !== stream) return
      this.log.warn('notifier_stream_closed', { note: 'reopening from the committed offsets' })
      void this.reopen()
    })
    if (this.paused) stream.pause()
  }

  private async reopen(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      await sleep(Math.min(5000, 250 * attempt))
      try {
        await this.openStream()
        return
      } catch (error) {
        this.log.error('notifier_stream_reopen_failed', { attempt, error: error as Error })
      }
    }
  }

  private onMessage(m: Message<Buffer, Buffer, Buffer, Buffer>): void {
    if (this.stopping) return
    const lane = this.lane(m.partition)
    if (!lane.tracker.read(m.offset)) return
    const record: StatusRecord = { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key?.toString() ?? '', value: m.value ?? undefined }
    this.buffered++
    this.metrics.inFlight.set({ consumer: this.o.name }, this.buffered)
    lane.runner.push(record.key, record)
    if (!this.paused && this.buffered >= this.o.maxBuffered) {
      this.paused = true
      this.stream?.pause()
    }
  }

  private lane(partition: number): Lane {
    let lane = this.lanes.get(partition)
    if (!lane) {
      const tracker = new PartitionTracker()
      const t0 = new Map<bigint, number>()
      const runner = new KeyedRunner<StatusRecord>(
        this.o.keysInFlight,
        (r) => {
          t0.set(r.offset, performance.now())
          return this.handle(r, this.abort.signal).then(() => {})
        },
        (r) => {
          tracker.done(r.offset)
          this.metrics.eventSeconds.observe({ consumer: this.o.name }, (performance.now() - (t0.get(r.offset) ?? performance.now())) / 1000)
          t0.delete(r.offset)
          this.released(1)
        },
        (r, error) => {
          t0.delete(r.offset)
          this.log.warn('notifier_record_abandoned', { partition: r.partition, offset: String(r.offset), error: error as Error })
          this.released(1)
        },
      )
      lane = { tracker, runner }
      this.lanes.set(partition, lane)
    }
    return lane
  }

  /** Records not started are dropped; they stay pending in the tracker, so the commit stops before them. */
  private drop(lane: Lane): void {
    this.released(lane.runner.clear().length)
  }

  private released(n: number): void {
    if (n === 0) return
    this.buffered -= n
    this.metrics.inFlight.set({ consumer: this.o.name }, this.buffered)
    if (this.paused && !this.stopping && this.buffered <= this.o.maxBuffered / 2) {
      this.paused = false
      this.stream?.resume()
    }
  }

  private onJoin(assignments: Array<{ topic: string; partitions: number[] }> | undefined): void {
    const mine = new Set(assignments?.find((a) => a.topic === this.o.topic)?.partitions ?? [])
    for (const [partition, lane] of this.lanes) {
      if (mine.has(partition)) continue
      // Taken away: what has not started is the new owner's; what runs finishes (dedupe covers overlap).
      this.drop(lane)
      this.lanes.delete(partition)
    }
    this.log.info('notifier_assigned', { partitions: [...mine].sort((a, b) => a - b) })
  }

  /** Commits each partition's offsetToCommit; one commit in flight at a time. */
  commit(): Promise<void> {
    if (this.committing) return this.committing
    const offsets: Array<{ topic: string; partition: number; offset: bigint; leaderEpoch: number }> = []
    for (const [partition, lane] of this.lanes) {
      const offset = lane.tracker.toCommit()
      if (offset !== undefined) offsets.push({ topic: this.o.topic, partition, offset, leaderEpoch: -1 })
    }
    if (offsets.length === 0) return Promise.resolve()
    this.committing = this.consumer
      .commit({ offsets })
      .then(() => {
        for (const o of offsets) {
          const lane = this.lanes.get(o.partition)
          if (lane && (lane.tracker.committed === undefined || lane.tracker.committed < o.offset)) lane.tracker.committed = o.offset
        }
        this.metrics.commits.inc({ consumer: this.o.name, outcome: 'ok' })
      })
      .catch((error: Error) => {
        this.metrics.commits.inc({ consumer: this.o.name, outcome: 'failed' })
        this.log.warn('notifier_commit_failed', { error })
      })
      .finally(() => {
        this.committing = undefined
      })
    return this.committing
  }
}
