import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Producer, ProduceAcks } from '@platformatic/kafka'
import { ProduceExpiredError, ProducerClosedError, ProduceFailedError, ProducerOverloadedError, ProduceTimeoutError } from './errors.ts'
import { ackOutcome, NOT_AFTER_HEADER, notAfterFor } from './expiry.ts'
import { partitionForKey } from './partitioner.ts'

export interface BatchingProducerOptions {
  brokers: string[]
  clientId: string
  /** How long the first message of a batch waits for others (ms). */
  lingerMs: number
  /** A batch is sent at once when it reaches this many messages. */
  maxBatchMessages: number
  /** ... or this many bytes of keys and values. */
  maxBatchBytes: number
  /**
   * Sends in flight at once. 1 keeps records in the order of `send()` calls even across leader
   * changes: @platformatic/kafka retries each send on its own, so with several in flight a retried
   * send (NOT_LEADER_OR_FOLLOWER) can land after a later one (measured: see the integration test).
   * Order between requests a client waits for (202 before the next) holds either way.
   */
  maxInFlight: number
  /** A message not acknowledged within this time rejects with ProduceTimeoutError. */
  deadlineMs: number
  /**
   * Largest difference between this process's clock and the brokers' that an expiring send
   * (`{ expires: true }`) allows for: its deadline header is `deadlineMs - clockSkewMs` after the
   * send, so whatever the broker appends after this process gave up is past it (see expiry.ts).
   */
  clockSkewMs: number
  /** Messages waiting beyond this count are refused at once (ProducerOverloadedError). */
  maxQueued: number
}

export const batchingProducerDefaults = {
  lingerMs: 2,
  maxBatchMessages: 1000,
  maxBatchBytes: 900_000,
  maxInFlight: 1,
  deadlineMs: 2000,
  clockSkewMs: 100,
  maxQueued: 50_000
} satisfies Omit<BatchingProducerOptions, 'brokers' | 'clientId'>

export interface Ack {
  topic: string
  partition: number
  offset: bigint
  /** The broker's append time (epoch ms) when the topic stamps records with it (LogAppendTime). */
  appendTime?: number
}

export interface SendOptions {
  /**
   * The record carries a `not-after` header (expiry.ts) and is answered as written only if the
   * broker appended it by then: if it landed later, the send rejects with ProduceExpiredError and
   * the consumer drops it. Either way, once the send rejects the record is never applied.
   */
  expires?: boolean
}

export interface ProducerStats {
  /** Called once per send with its size and how long Kafka took. */
  onSend?: (messages: number, seconds: number, ok: boolean) => void
}

interface Pending {
  topic: string
  partition: number
  key: Buffer
  value: Buffer
  headers?: Map<Buffer, Buffer>
  deadline: number
  /** Epoch ms, for an expiring send. */
  notAfter?: number
  settled: boolean
  resolve: (ack: Ack) => void
  reject: (err: Error) => void
}

/**
 * One idempotent producer (acks=all) per process. Each `send()` joins a batch; a batch goes out
 * after `lingerMs` or when full, with at most `maxInFlight` batches in flight; each caller's promise
 * settles with its own record's offset (base offset of its partition in the batch + its position).
 * Keys are partitioned as the Java client does. Under load batches grow rather than sends multiply. A caller always hears back within `deadlineMs`:
 * messages still queued then are dropped from the queue (never sent); messages already sent reject
 * but may still land, which is why consumers are idempotent. An expiring send (`{ expires: true }`)
 * that rejects can land too, but past its `not-after` header, so its consumer drops it (expiry.ts).
 */
export class BatchingProducer {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>
  private readonly opts: BatchingProducerOptions
  private queue: Pending[] = []
  private queuedBytes = 0
  private inFlight = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly partitionCounts = new Map<string, number>()
  private closed = false
  private readonly idle: Array<() => void> = []
  /** `topic:partition:baseOffset` -> the broker's append time, from this producer's Produce responses. */
  private readonly appendTimes = new Map<string, number>()
  private readonly onApiResponse = (message: unknown) => this.recordAppendTimes(message as ApiDiagnostic)

  constructor (options: Partial<BatchingProducerOptions> & Pick<BatchingProducerOptions, 'brokers' | 'clientId'>, private readonly stats: ProducerStats = {}) {
    this.opts = { ...batchingProducerDefaults, ...options }
    if (!(this.opts.clockSkewMs >= 0 && this.opts.clockSkewMs < this.opts.deadlineMs)) {
      throw new RangeError(`clockSkewMs (${this.opts.clockSkewMs}) must be at least 0 and below deadlineMs (${this.opts.deadlineMs})`)
    }
    this.producer = new Producer({
      clientId: this.opts.clientId,
      bootstrapBrokers: this.opts.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Kafka's own retries stay inside our deadline.
      timeout: Math.max(500, Math.floor(this.opts.deadlineMs / 2)),
      retries: 2,
      retryDelay: 100,
      autocreateTopics: false
    })
    // The client's send result has offsets only; the append time is in the Produce response, which
    // the client publishes on its documented diagnostics channel before calling back.
    subscribe(apiResponses, this.onApiResponse)
  }

  private recordAppendTimes (d: ApiDiagnostic): void {
    if (d.apiKey !== PRODUCE_API_KEY || d.connection?.ownerId !== this.producer.instanceId) return
    for (const t of d.result?.responses ?? []) {
      for (const p of t.partitionResponses ?? []) {
        if (p.errorCode !== 0 || p.logAppendTimeMs === undefined || p.logAppendTimeMs < 0n) continue
        // A response whose send was given up on is never looked up: keep the map bounded.
        if (this.appendTimes.size >= 10_000) this.appendTimes.clear()
        this.appendTimes.set(`${t.name}:${p.index}:${p.baseOffset}`, Number(p.logAppendTimeMs))
      }
    }
  }

  /** Learns the partition counts of the topics it will write (fails if a topic is missing). */
  async connect (topics: string[]): Promise<void> {
    const meta = await this.producer.metadata({ topics, forceUpdate: true })
    for (const t of topics) {
      const count = meta.topics.get(t)?.partitionsCount
      if (!count) throw new Error(`topic ${t} does not exist`)
      this.partitionCounts.set(t, count)
    }
    await this.producer.initIdempotentProducer({ acks: ProduceAcks.ALL })
    // Open the broker connections now: while one is still being opened, concurrent sends can take
    // different paths and reach a partition out of order (seen at start-up with 5 sends in flight).
    await this.producer.connectToBrokers()
  }

  /** True while the underlying client is connected to the cluster. */
  isConnected (): boolean { return !this.closed && this.producer.isConnected() }

  partitionFor (topic: string, key: string): number {
    const count = this.partitionCounts.get(topic)
    if (!count) throw new Error(`topic ${topic} was not declared in connect()`)
    return partitionForKey(key, count)
  }

  get queued (): number { return this.queue.length }
  get sendsInFlight (): number { return this.inFlight }

  send (topic: string, key: string, value: string | Buffer, headers?: Record<string, string>, options: SendOptions = {}): Promise<Ack> {
    if (this.closed) return Promise.reject(new ProducerClosedError())
    if (this.queue.length >= this.opts.maxQueued) return Promise.reject(new ProducerOverloadedError(this.queue.length))
    return new Promise<Ack>((resolve, reject) => {
      const keyBuf = Buffer.from(key)
      const valueBuf = typeof value === 'string' ? Buffer.from(value) : value
      const notAfter = options.expires ? notAfterFor(Date.now(), this.opts.deadlineMs, this.opts.clockSkewMs) : undefined
      if (notAfter !== undefined) headers = { ...headers, [NOT_AFTER_HEADER]: String(notAfter) }
      const p: Pending = {
        topic,
        partition: this.partitionFor(topic, key),
        key: keyBuf,
        value: valueBuf,
        // The client's default serializers take Buffers only (a string header key fails the whole send).
        headers: headers && new Map(Object.entries(headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        deadline: performance.now() + this.opts.deadlineMs,
        notAfter,
        settled: false,
        resolve,
        reject
      }
      // Every caller hears back by its deadline, whatever Kafka does.
      const guard = setTimeout(() => settle(p, new ProduceTimeoutError(this.opts.deadlineMs)), this.opts.deadlineMs)
      p.resolve = ack => { clearTimeout(guard); resolve(ack) }
      p.reject = err => { clearTimeout(guard); reject(err) }
      this.queue.push(p)
      this.queuedBytes += keyBuf.length + valueBuf.length
      this.schedule()
    })
  }

  private schedule (): void {
    if (this.queue.length >= this.opts.maxBatchMessages || this.queuedBytes >= this.opts.maxBatchBytes) {
      this.flush()
    } else if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush() }, this.opts.lingerMs)
    }
  }

  private flush (): void {
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const batch = this.takeBatch()
      if (batch.length > 0) this.sendBatch(batch)
    }
    if (this.queue.length === 0 && this.timer) { clearTimeout(this.timer); this.timer = undefined }
  }

  private takeBatch (): Pending[] {
    const batch: Pending[] = []
    let bytes = 0
    const now = performance.now()
    while (this.queue.length > 0 && batch.length < this.opts.maxBatchMessages && bytes < this.opts.maxBatchBytes) {
      const p = this.queue.shift()!
      const size = p.key.length + p.value.length
      this.queuedBytes -= size
      // Past its deadline (its caller already had an answer): never send it.
      if (p.settled || p.deadline <= now) { settle(p, new ProduceTimeoutError(this.opts.deadlineMs)); continue }
      batch.push(p)
      bytes += size
    }
    return batch
  }

  private sendBatch (batch: Pending[]): void {
    this.inFlight++
    const t0 = performance.now()
    this.producer.send({
      messages: batch.map(p => ({ topic: p.topic, partition: p.partition, key: p.key, value: p.value, headers: p.headers }))
    }).then(result => {
      this.stats.onSend?.(batch.length, (performance.now() - t0) / 1000, true)
      const base = new Map<string, bigint>()
      const appended = new Map<string, number>()
      for (const o of result.offsets ?? []) {
        const k = `${o.topic}:${o.partition}`
        base.set(k, o.offset)
        const time = this.appendTimes.get(`${k}:${o.offset}`)
        this.appendTimes.delete(`${k}:${o.offset}`)
        if (time !== undefined) appended.set(k, time)
      }
      const position = new Map<string, bigint>()
      for (const p of batch) {
        const k = `${p.topic}:${p.partition}`
        const first = base.get(k)
        if (first === undefined) { settle(p, new ProduceFailedError(new Error(`no offset returned for ${k}`))); continue }
        const i = position.get(k) ?? 0n
        position.set(k, i + 1n)
        const appendTime = appended.get(k)
        if (p.notAfter !== undefined && ackOutcome(p.notAfter, appendTime) === 'expired') {
          settle(p, new ProduceExpiredError(appendTime!, p.notAfter))
          continue
        }
        settle(p, undefined, { topic: p.topic, partition: p.partition, offset: first + i, appendTime })
      }
    }, (err: unknown) => {
      this.stats.onSend?.(batch.length, (performance.now() - t0) / 1000, false)
      for (const p of batch) settle(p, new ProduceFailedError(err))
    }).finally(() => {
      this.inFlight--
      if (this.queue.length > 0) this.flush()
      else if (this.inFlight === 0) this.idle.splice(0).forEach(f => f())
    })
  }

  /** Sends what is queued, waits for every send in flight, then closes the connection. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined }
    this.flush()
    while (this.queue.length > 0 || this.inFlight > 0) {
      await new Promise<void>(resolve => this.idle.push(resolve))
      this.flush()
    }
    await this.producer.close()
    unsubscribe(apiResponses, this.onApiResponse)
  }
}

/** `plt:kafka:connections:api`'s asyncStart: every response, published before the client calls back. */
const apiResponses = 'tracing:plt:kafka:connections:api:asyncStart'
const PRODUCE_API_KEY = 0

interface ApiDiagnostic {
  apiKey?: number
  connection?: { ownerId?: number }
  result?: {
    responses?: Array<{
      name: string
      partitionResponses?: Array<{ index: number, errorCode: number, baseOffset: bigint, logAppendTimeMs?: bigint }>
    }>
  }
}

function settle (p: Pending, err?: Error, ack?: Ack): void {
  if (p.settled) return
  p.settled = true
  if (err) p.reject(err)
  else p.resolve(ack!)
}
