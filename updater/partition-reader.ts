import { Admin, Consumer, findErrorBy } from '@platformatic/kafka'

/**
 * Reads the owned partitions of the command topic directly (Kafka's Fetch with explicit
 * partitions and offsets: no group membership, no rebalancing), and keeps their positions in a
 * consumer group as a standalone client: OffsetCommit with generation -1 and an empty member id,
 * which Kafka accepts for a group without members (what the Java client's assign() + commitSync
 * sends). The group is never joined, so `kafka-consumer-groups --describe --group updater` still
 * shows the updaters' offsets and lag.
 */
export interface ReadRecord {
  partition: number
  offset: number
  key: Buffer | null
  value: Buffer | null
  /** When the broker appended it (epoch ms), if its batch is stamped so (LogAppendTime topics). */
  appendTime?: number
  headers?: ReadonlyArray<[Buffer | null, Buffer | null]>
}

export interface FetchResult {
  records: Map<number, ReadRecord[]>
  highWatermarks: Map<number, number>
  /** Positions moved forward because retention deleted the records there (OFFSET_OUT_OF_RANGE). */
  resets: Map<number, number>
}

export interface PartitionReaderOptions {
  brokers: string[]
  clientId: string
  groupId: string
  topic: string
  maxWaitMs: number
  maxBytesPerPartition: number
}

const IS_CONTROL = 0b100000
/** Batch attribute bit 3: the batch's timestamps are the broker's append time (its maxTimestamp). */
const LOG_APPEND_TIME = 0b1000
type FetchRequestTopic = Parameters<Consumer['fetch']>[0]['topics'][number]

export class PartitionReader {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>
  private readonly admin: Admin
  private topicId = ''
  partitionCount = 0

  constructor (private readonly o: PartitionReaderOptions) {
    // groupId is required by the client; this consumer never joins it (fetch and metadata only).
    this.consumer = new Consumer({ clientId: o.clientId, groupId: o.groupId, bootstrapBrokers: o.brokers, timeout: 10_000, retries: 3, retryDelay: 250, autocreateTopics: false })
    this.admin = new Admin({ clientId: `${o.clientId}-offsets`, bootstrapBrokers: o.brokers, timeout: 10_000, retries: 3, retryDelay: 250 })
  }

  /** Learns the topic's id and partition count (fails if the topic is missing). */
  async connect (): Promise<number> {
    const meta = await this.consumer.metadata({ topics: [this.o.topic], forceUpdate: true })
    const t = meta.topics.get(this.o.topic)
    if (!t) throw new Error(`topic ${this.o.topic} does not exist`)
    this.topicId = t.id
    this.partitionCount = t.partitionsCount
    return t.partitionsCount
  }

  /** Committed positions of the group (next offset to read), or the log start where none is committed. */
  async positions (partitions: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>()
    const [group] = await this.admin.listConsumerGroupOffsets({ groups: [{ groupId: this.o.groupId, topics: [{ name: this.o.topic, partitionIndexes: [...partitions] }] }] })
    for (const t of group?.topics ?? []) {
      if (t.name !== this.o.topic) continue
      for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, Number(p.committedOffset))
    }
    const starts = await this.listOffsets(partitions, -2n)
    for (const p of partitions) {
      const start = starts.get(p) ?? 0
      // Retention may have deleted what was committed: start at the oldest record left.
      if ((out.get(p) ?? -1) < start) out.set(p, start)
    }
    return out
  }

  /** Log end offsets (next offset to be written), for lag. */
  async endOffsets (partitions: readonly number[]): Promise<Map<number, number>> {
    return this.listOffsets(partitions, -1n)
  }

  private async listOffsets (partitions: readonly number[], timestamp: bigint): Promise<Map<number, number>> {
    const res = await this.admin.listOffsets({ topics: [{ name: this.o.topic, partitions: partitions.map(partitionIndex => ({ partitionIndex, timestamp })) }] })
    const out = new Map<number, number>()
    for (const t of res) for (const p of t.partitions) out.set(p.partitionIndex, Number(p.offset))
    return out
  }

  /** Commits `offsets` (partition -> next offset to read) for the group, as a standalone client. */
  async commit (offsets: ReadonlyMap<number, number>): Promise<void> {
    if (offsets.size === 0) return
    await this.admin.alterConsumerGroupOffsets({
      groupId: this.o.groupId,
      topics: [{ name: this.o.topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }]
    })
  }

  /**
   * One fetch of the given partitions from their positions, one request per leader. Records
   * below a requested position (a batch starts at its first offset) are dropped here.
   */
  async fetch (positions: ReadonlyMap<number, number>): Promise<FetchResult> {
    const meta = await this.consumer.metadata({ topics: [this.o.topic] })
    const topic = meta.topics.get(this.o.topic)
    if (!topic) throw new Error(`topic ${this.o.topic} disappeared`)
    this.topicId = topic.id
    const byNode = new Map<number, FetchRequestTopic>()
    for (const [partition, offset] of positions) {
      const node = topic.partitions[partition]?.leader ?? -1
      let req = byNode.get(node)
      if (!req) { req = { topicId: topic.id, partitions: [] }; byNode.set(node, req) }
      req.partitions.push({ partition, fetchOffset: BigInt(offset), partitionMaxBytes: this.o.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })
    }
    const result: FetchResult = { records: new Map(), highWatermarks: new Map(), resets: new Map() }
    await Promise.all([...byNode].map(async ([node, req]) => {
      let res
      try {
        res = await this.consumer.fetch({ node, topics: [req], maxWaitTime: this.o.maxWaitMs, minBytes: 1, maxBytes: this.o.maxBytesPerPartition * req.partitions.length })
      } catch (err) {
        if (findErrorBy(err as Error, 'apiId', 'OFFSET_OUT_OF_RANGE')) {
          const starts = await this.listOffsets(req.partitions.map(p => p.partition), -2n)
          for (const p of req.partitions) {
            const start = starts.get(p.partition) ?? 0
            if (Number(p.fetchOffset) < start) result.resets.set(p.partition, start)
          }
          if (result.resets.size > 0) return
        }
        if (findErrorBy(err as Error, 'apiId', 'NOT_LEADER_OR_FOLLOWER') || findErrorBy(err as Error, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION')) this.consumer.clearMetadata()
        throw err
      }
      for (const t of res.responses) {
        for (const p of t.partitions) {
          const from = positions.get(p.partitionIndex)
          if (from === undefined) continue
          result.highWatermarks.set(p.partitionIndex, Number(p.highWatermark))
          const list: ReadRecord[] = []
          for (const batch of p.records ?? []) {
            if (batch.attributes & IS_CONTROL) continue
            const appendTime = batch.attributes & LOG_APPEND_TIME ? Number(batch.maxTimestamp) : undefined
            for (const r of batch.records) {
              const offset = Number(batch.firstOffset) + r.offsetDelta
              if (offset >= from) list.push({ partition: p.partitionIndex, offset, key: r.key, value: r.value, appendTime, headers: r.headers })
            }
          }
          if (list.length) result.records.set(p.partitionIndex, list)
        }
      }
    }))
    return result
  }

  async close (): Promise<void> {
    await Promise.allSettled([this.consumer.close(true), this.admin.close()])
  }
}
