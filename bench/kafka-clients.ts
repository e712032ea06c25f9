/**
 * Kafka client comparison: @platformatic/kafka vs kafkajs, both pure TypeScript/JavaScript, on Bun,
 * in the same process against the same broker, so the project's choice of client rests on numbers.
 *
 *   bun bench/kafka-clients.ts [--messages N] [--runs R] [--in-flight F]
 *   (broker: KAFKA_BROKERS, default 127.0.0.1:9092; replicas: KAFKA_REPLICATION_FACTOR, default 1)
 *
 * Measures, each repeated R times (median reported) with the clients interleaved per measure and the
 * order alternated per run (A,B then B,A) so drift and machine noise hit both:
 *   1. produce: N keyed ~300-byte messages (keys `user-<i % 5000>`), acks=all, idempotent producer,
 *      to a fresh 12-partition topic, as sequential send() calls of 1,000 messages;
 *   2. the same with F (default 16) sends in flight at once; failed sends are counted by error;
 *   3. consume: all N messages back from the beginning with a fresh consumer group
 *      (platformatic: mode=committed + fallbackMode=earliest; kafkajs: fromBeginning, eachBatch);
 *   4. partitioner agreement with the Java client for 10,000 keys (pure, no broker: `partitionerDisagreements`).
 *
 * Every message carries an explicit partition computed with the Java-compatible `partitionForKey`, as
 * the project's BatchingProducer does, so both clients write the same layout and neither pays for
 * its own partitioner (whose correctness is measure 4). Producers and consumers otherwise run with
 * library defaults (no compression). Connection set-up and the idempotent-producer handshake are
 * outside the produce timing; consumer connect + group join are inside "incl. join" only.
 * After each produce the topic's end offsets are summed, to catch lost or duplicated records.
 *
 * Output: a Markdown table on stdout, JSON in bench/results/kafka-clients-<timestamp>.json, progress on
 * stderr. Topics and groups get a unique suffix and are deleted afterwards.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Admin, Consumer, Producer, ProduceAcks, ListOffsetTimestamps, MessagesStreamModes, MessagesStreamFallbackModes,
  defaultPartitioner as platformaticDefaultPartitioner, compatibilityPartitioner as platformaticCompatibilityPartitioner,
  type MessageToProduce
} from '@platformatic/kafka'
import { Kafka, Partitioners, logLevel, type Message as KafkajsMessage, type PartitionMetadata, type logCreator } from 'kafkajs'
import { partitionForKey } from '../shared/kafka/partitioner.ts'
import { median } from './lib/stats.ts'

// ---------------------------------------------------------------------------------------------
// Partitioner agreement (pure)
// ---------------------------------------------------------------------------------------------

export type PartitionerName = 'platformatic default' | 'platformatic compatibilityPartitioner' | 'kafkajs DefaultPartitioner' | 'kafkajs LegacyPartitioner'

export interface PartitionerAgreement {
  keys: number
  partitions: number
  /** Keys each client's partitioner puts on another partition than the Java client would. */
  disagreements: Record<PartitionerName, number>
  /** A few disagreeing keys per partitioner: [key, java partition, client partition]. */
  examples: Record<PartitionerName, Array<[string, number, number]>>
}

/**
 * For each key, the partition each client's partitioner picks (the way the client itself applies it)
 * against the Java client's (`partitionForKey`, murmur2 test-vector verified).
 * platformatic: the producer takes `partitioner(message, keyBytes) % partitionsCount`;
 * kafkajs: the partitioner returns the partition itself, given the topic's partition metadata.
 */
export function partitionerDisagreements (keys: string[], partitions: number): PartitionerAgreement {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, i) =>
    ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
  const kafkajsDefault = Partitioners.DefaultPartitioner()
  const kafkajsLegacy = Partitioners.LegacyPartitioner()
  const pick: Record<PartitionerName, (key: Buffer) => number> = {
    'platformatic default': key => platformaticDefaultPartitioner({ topic: 't', key, value: undefined }, key) % partitions,
    'platformatic compatibilityPartitioner': key => platformaticCompatibilityPartitioner({ topic: 't', key, value: undefined }, key) % partitions,
    'kafkajs DefaultPartitioner': key => kafkajsDefault({ topic: 't', partitionMetadata, message: { key, value: null } }),
    'kafkajs LegacyPartitioner': key => kafkajsLegacy({ topic: 't', partitionMetadata, message: { key, value: null } })
  }
  const names = Object.keys(pick) as PartitionerName[]
  const disagreements = Object.fromEntries(names.map(n => [n, 0])) as Record<PartitionerName, number>
  const examples = Object.fromEntries(names.map(n => [n, []])) as unknown as PartitionerAgreement['examples']
  for (const key of keys) {
    const bytes = Buffer.from(key)
    const java = partitionForKey(bytes, partitions)
    for (const name of names) {
      const got = pick[name](bytes)
      if (got !== java) {
        disagreements[name]++
        if (examples[name].length < 3) examples[name].push([key, java, got])
      }
    }
  }
  return { keys: keys.length, partitions, disagreements, examples }
}

// ---------------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------------

const PARTITIONS = 12
const SEND_SIZE = 1000
const DISTINCT_KEYS = 5000
const VALUE_BYTES = 300
const PARTITIONER_KEYS = 10_000

type ClientName = 'platformatic' | 'kafkajs'
type MeasureName = 'produce' | 'produceOverlap' | 'consume' | 'consumeAfterJoin' | 'consumeJoinMs' | 'consumeFirstMessageMs'

const measureLabels: Record<MeasureName, string> = {
  produce: 'produce, sequential sends of 1,000 (msg/s)',
  produceOverlap: 'produce, F sends in flight (msg/s)',
  consume: 'consume from earliest, group, incl. connect + join (msg/s)',
  consumeAfterJoin: 'consume, from group joined to last message (msg/s)',
  consumeJoinMs: 'consume: connect + group join (ms, lower is better)',
  consumeFirstMessageMs: 'consume: connect to first message (ms, lower is better)'
}

function parseArgs (argv: string[]): { messages: number, runs: number, inFlight: number } {
  const out = { messages: 200_000, runs: 4, inFlight: 16 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const [flag, inline] = a.includes('=') ? a.split('=', 2) as [string, string] : [a, undefined]
    const value = (): number => {
      const v = Number(inline ?? argv[++i])
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${flag} needs a positive integer`)
      return v
    }
    if (flag === '--messages') out.messages = value()
    else if (flag === '--runs') out.runs = value()
    else if (flag === '--in-flight') out.inFlight = value()
    else if (flag === '--help' || flag === '-h') {
      process.stderr.write('usage: bun bench/kafka-clients.ts [--messages N] [--runs R] [--in-flight F]\n')
      process.exit(0)
    } else throw new Error(`unknown argument ${a}`)
  }
  return out
}

const started = performance.now()
function progress (line: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`)
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Resolves 'timeout' after ms unless cancelled. */
function timer (ms: number): { promise: Promise<'timeout'>, cancel: () => void } {
  let handle: ReturnType<typeof setTimeout> | undefined
  const promise = new Promise<'timeout'>(resolve => { handle = setTimeout(() => resolve('timeout'), ms) })
  return { promise, cancel: () => clearTimeout(handle) }
}

async function bounded<T> (what: string, ms: number, p: Promise<T>): Promise<T | undefined> {
  const t = timer(ms)
  try {
    const r = await Promise.race([p, t.promise])
    if (r === 'timeout') { progress(`warning: ${what} did not finish within ${ms} ms`); return undefined }
    return r as T
  } catch (err) {
    progress(`warning: ${what} failed: ${errorLabel(err)}`)
    return undefined
  } finally { t.cancel() }
}

/** Short label of a client error: the Kafka error id(s) when there are any (platformatic apiId, kafkajs type). */
export function errorLabel (err: unknown): string {
  const ids = new Set<string>()
  const seen = new Set<unknown>()
  const walk = (e: unknown, depth: number): void => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 6) return
    seen.add(e)
    const o = e as Record<string, unknown>
    if (typeof o.apiId === 'string') ids.add(o.apiId)
    if (typeof o.type === 'string' && /^[A-Z_]+$/.test(o.type)) ids.add(o.type)
    for (const nested of [o.cause, o.originalError]) walk(nested, depth + 1)
    if (Array.isArray(o.errors)) for (const n of o.errors) walk(n, depth + 1)
  }
  walk(err, 0)
  if (ids.size > 0) return [...ids].sort().join('+')
  const e = err as { name?: string, code?: string, message?: string }
  return `${e?.code ?? e?.name ?? 'Error'}: ${String(e?.message ?? err).slice(0, 120)}`
}

interface Dataset { keys: Buffer[], values: Buffer[], partitions: number[] }

function buildDataset (n: number): Dataset {
  const keyBufs = Array.from({ length: DISTINCT_KEYS }, (_, k) => Buffer.from(`user-${k}`))
  const keyParts = keyBufs.map(k => partitionForKey(k, PARTITIONS))
  const keys: Buffer[] = new Array(n)
  const values: Buffer[] = new Array(n)
  const partitions: number[] = new Array(n)
  const now = Date.now()
  for (let i = 0; i < n; i++) {
    const k = i % DISTINCT_KEYS
    keys[i] = keyBufs[k]!
    partitions[i] = keyParts[k]!
    const head = `{"type":"reservation.updated","userId":"user-${k}","seq":${i},"at":${now + i},"reservationId":"res-${(i * 7919) % 1_000_003}","notes":"`
    values[i] = Buffer.from(head.padEnd(VALUE_BYTES - 2, 'x') + '"}')
  }
  return { keys, values, partitions }
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

interface ProduceOutcome {
  seconds: number
  acked: number
  failed: number
  /** Records on the topic afterwards (sum of end offsets), to catch loss or duplicates. */
  stored: number
  timedOut: boolean
  errors: Record<string, number>
  msgPerSec: number
}

interface ConsumeOutcome {
  expected: number
  received: number
  timedOut: boolean
  error?: string
  /** From creating the consumer to its group-join event. */
  joinMs: number
  firstMessageMs: number
  msgPerSec: number
  msgPerSecAfterJoin: number
}

interface Ctx {
  brokers: string[]
  replicas: number
  admin: Admin
  kafka: Kafka
  data: Dataset
  messages: number
  createdTopics: Set<string>
  createdGroups: Set<string>
}

/** Sends `chunks` sends with at most `inFlight` outstanding; keeps going after failures; bounded by `deadlineMs`. */
async function driveSends (chunks: number, chunkSize: (i: number) => number, inFlight: number, deadlineMs: number,
  send: (i: number) => Promise<unknown>): Promise<Omit<ProduceOutcome, 'stored' | 'msgPerSec'>> {
  let next = 0
  let acked = 0
  let failed = 0
  let stop = false
  const errors: Record<string, number> = {}
  const t0 = performance.now()
  const worker = async (): Promise<void> => {
    while (!stop && next < chunks) {
      const i = next++
      try {
        await send(i)
        acked += chunkSize(i)
      } catch (err) {
        failed += chunkSize(i)
        const label = errorLabel(err)
        if ((errors[label] = (errors[label] ?? 0) + 1) === 1) progress(`  send failed: ${label}`)
      }
    }
  }
  const t = timer(deadlineMs)
  const timedOut = await Promise.race([Promise.all(Array.from({ length: inFlight }, worker)).then(() => false), t.promise.then(() => true)])
  t.cancel()
  stop = true
  const seconds = (performance.now() - t0) / 1000
  if (timedOut) errors[`deadline of ${deadlineMs} ms reached`] = 1
  return { seconds, acked, failed, timedOut, errors }
}

async function createTopic (ctx: Ctx, name: string): Promise<void> {
  ctx.createdTopics.add(name)
  await ctx.admin.createTopics({
    topics: [name], partitions: PARTITIONS, replicas: ctx.replicas,
    configs: [{ name: 'min.insync.replicas', value: String(Math.min(2, ctx.replicas)) }]
  })
  for (let attempt = 0; ; attempt++) {
    try {
      const meta = await ctx.admin.metadata({ topics: [name], forceUpdate: true })
      const t = meta.topics.get(name)
      if (t && t.partitionsCount === PARTITIONS && t.partitions.every(p => p && p.leader >= 0)) return
    } catch (err) {
      if (attempt >= 50) throw err
    }
    if (attempt >= 50) throw new Error(`topic ${name} has no leaders after creation`)
    await sleep(100)
  }
}

async function storedRecords (ctx: Ctx, topic: string): Promise<number> {
  const res = await ctx.admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({ partitionIndex, timestamp: ListOffsetTimestamps.LATEST })) }]
  })
  let total = 0n
  for (const t of res) for (const p of t.partitions) total += p.offset
  return Number(total)
}

async function deleteTopics (ctx: Ctx, topics: string[]): Promise<void> {
  const existing = topics.filter(t => ctx.createdTopics.has(t))
  if (existing.length === 0) return
  try {
    await ctx.admin.deleteTopics({ topics: existing })
    for (const t of existing) ctx.createdTopics.delete(t)
  } catch (err) {
    progress(`warning: deleting topics ${existing.join(', ')} failed: ${errorLabel(err)}`)
  }
}

async function deleteGroups (ctx: Ctx, groups: string[]): Promise<void> {
  for (const g of groups) {
    if (!ctx.createdGroups.has(g)) continue
    try {
      await ctx.admin.deleteGroups({ groups: [g] })
      ctx.createdGroups.delete(g)
    } catch { /* a group that is not empty yet expires on its own */ }
  }
}

const produceDeadlineMs = (n: number): number => 30_000 + Math.ceil(n / 2)
const consumeDeadlineMs = (n: number): number => 30_000 + Math.ceil(n / 5)

function chunkBounds (n: number): { chunks: number, size: (i: number) => number } {
  const chunks = Math.ceil(n / SEND_SIZE)
  return { chunks, size: i => Math.min(SEND_SIZE, n - i * SEND_SIZE) }
}

/** The `n` messages in sends of SEND_SIZE, built before the clock starts. */
function sendBatches<M> (n: number, message: (i: number) => M): M[][] {
  const { chunks, size } = chunkBounds(n)
  return Array.from({ length: chunks }, (_, c) => Array.from({ length: size(c) }, (_, j) => message(c * SEND_SIZE + j)))
}

async function producePlatformatic (ctx: Ctx, topic: string, inFlight: number): Promise<ProduceOutcome> {
  const { data, messages: n } = ctx
  const { chunks, size } = chunkBounds(n)
  const batches = sendBatches<MessageToProduce>(n, i => ({ topic, key: data.keys[i], value: data.values[i], partition: data.partitions[i] }))
  const producer = new Producer({
    clientId: 'bench-platformatic', bootstrapBrokers: ctx.brokers,
    idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false
  })
  try {
    await producer.initIdempotentProducer({ acks: ProduceAcks.ALL })
    Bun.gc(true)
    const r = await driveSends(chunks, size, inFlight, produceDeadlineMs(n), i => producer.send({ messages: batches[i]! }))
    const stored = await storedRecords(ctx, topic)
    return { ...r, stored, msgPerSec: r.acked / r.seconds }
  } finally {
    await bounded('platformatic producer close', 10_000, producer.close())
  }
}

async function produceKafkajs (ctx: Ctx, topic: string, inFlight: number): Promise<ProduceOutcome> {
  const { data, messages: n } = ctx
  const { chunks, size } = chunkBounds(n)
  const batches = sendBatches<KafkajsMessage>(n, i => ({ key: data.keys[i], value: data.values[i], partition: data.partitions[i] }))
  const producer = ctx.kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    Bun.gc(true)
    const r = await driveSends(chunks, size, inFlight, produceDeadlineMs(n), i => producer.send({ topic, acks: -1, messages: batches[i]! }))
    const stored = await storedRecords(ctx, topic)
    return { ...r, stored, msgPerSec: r.acked / r.seconds }
  } finally {
    await bounded('kafkajs producer disconnect', 10_000, producer.disconnect())
  }
}

/** Waits until `expected` messages arrived (or the deadline), with timestamps of the first and last one. */
function counter (expected: number): { onMessage: (valueLength: number) => void, done: Promise<void>, received: () => number, first: () => number, last: () => number, bytes: () => number } {
  let received = 0
  let bytes = 0
  let first = 0
  let last = 0
  let resolve!: () => void
  const done = new Promise<void>(r => { resolve = r })
  if (expected === 0) resolve()
  return {
    onMessage (len) {
      const now = performance.now()
      if (received === 0) first = now
      received++
      bytes += len
      if (received === expected) { last = now; resolve() }
    },
    done,
    received: () => received,
    first: () => first,
    last: () => last,
    bytes: () => bytes
  }
}

function consumeOutcome (expected: number, c: ReturnType<typeof counter>, t0: number, tJoin: number, timedOut: boolean, error?: string): ConsumeOutcome {
  const received = c.received()
  const ok = !timedOut && !error && received >= expected && expected > 0
  return {
    expected, received, timedOut, error,
    joinMs: tJoin > 0 ? tJoin - t0 : NaN,
    firstMessageMs: received > 0 ? c.first() - t0 : NaN,
    msgPerSec: ok ? expected / ((c.last() - t0) / 1000) : NaN,
    msgPerSecAfterJoin: ok && tJoin > 0 ? expected / ((c.last() - tJoin) / 1000) : NaN
  }
}

async function consumePlatformatic (ctx: Ctx, topic: string, groupId: string, expected: number): Promise<ConsumeOutcome> {
  ctx.createdGroups.add(groupId)
  const c = counter(expected)
  let error: string | undefined
  Bun.gc(true)
  const t0 = performance.now()
  const consumer = new Consumer({ clientId: 'bench-platformatic', groupId, bootstrapBrokers: ctx.brokers })
  let tJoin = 0
  consumer.once('consumer:group:join', () => { tJoin = performance.now() })
  let stream: Awaited<ReturnType<typeof consumer.consume>> | undefined
  const deadline = timer(consumeDeadlineMs(expected))
  try {
    const failed = new Promise<void>((_, reject) => {
      consumer.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST }).then(s => {
        stream = s
        s.on('data', m => c.onMessage((m.value as Buffer | undefined)?.length ?? 0))
        s.on('error', reject)
      }, reject)
    })
    const r = await Promise.race([c.done, failed, deadline.promise])
    return consumeOutcome(expected, c, t0, tJoin, r === 'timeout')
  } catch (err) {
    error = errorLabel(err)
    progress(`  consume failed: ${error}`)
    return consumeOutcome(expected, c, t0, tJoin, false, error)
  } finally {
    deadline.cancel()
    if (stream) await bounded('platformatic stream close', 10_000, stream.close())
    if (!await bounded('platformatic consumer close', 10_000, consumer.close().then(() => true))) {
      await bounded('platformatic consumer force close', 5_000, consumer.close(true))
    }
  }
}

async function consumeKafkajs (ctx: Ctx, topic: string, groupId: string, expected: number): Promise<ConsumeOutcome> {
  ctx.createdGroups.add(groupId)
  const c = counter(expected)
  let error: string | undefined
  Bun.gc(true)
  const t0 = performance.now()
  const consumer = ctx.kafka.consumer({ groupId })
  let tJoin = 0
  consumer.on(consumer.events.GROUP_JOIN, () => { if (tJoin === 0) tJoin = performance.now() })
  const deadline = timer(consumeDeadlineMs(expected))
  try {
    const crashed = new Promise<void>((_, reject) => {
      consumer.on(consumer.events.CRASH, e => reject(e.payload.error))
    })
    const started = (async () => {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) c.onMessage(m.value?.length ?? 0)
        }
      })
    })()
    const r = await Promise.race([started.then(() => Promise.race([c.done, crashed, deadline.promise])), crashed, deadline.promise])
    return consumeOutcome(expected, c, t0, tJoin, r === 'timeout')
  } catch (err) {
    error = errorLabel(err)
    progress(`  consume failed: ${error}`)
    return consumeOutcome(expected, c, t0, tJoin, false, error)
  } finally {
    deadline.cancel()
    await bounded('kafkajs consumer disconnect', 15_000, consumer.disconnect())
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and report
// ---------------------------------------------------------------------------------------------

const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'

interface RunRecord { run: number, order: ClientName[], client: ClientName, measure: 'produce' | 'produceOverlap' | 'consume', topic: string, result: ProduceOutcome | ConsumeOutcome }

async function main (): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map(s => s.trim()).filter(Boolean)
  const replicas = Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1)
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
  const clients: ClientName[] = ['platformatic', 'kafkajs']
  const versions = {
    bun: Bun.version,
    platformatic: (await Bun.file(join(import.meta.dir, '../node_modules/@platformatic/kafka/package.json')).json() as { version: string }).version,
    kafkajs: (await Bun.file(join(import.meta.dir, '../node_modules/kafkajs/package.json')).json() as { version: string }).version
  }
  progress(`brokers=${brokers.join(',')} messages=${opts.messages} runs=${opts.runs} inFlight=${opts.inFlight} replicas=${replicas} bun=${versions.bun} platformatic=${versions.platformatic} kafkajs=${versions.kafkajs}`)

  // 4. partitioner agreement (pure, first: it needs no broker)
  const partitionerKeys = Array.from({ length: PARTITIONER_KEYS }, (_, i) => `user-${i}`)
  const agreement = partitionerDisagreements(partitionerKeys, PARTITIONS)
  progress(`partitioner disagreements with Java (${PARTITIONER_KEYS} keys, ${PARTITIONS} partitions): ${JSON.stringify(agreement.disagreements)}`)

  const kafkajsLogs: Record<string, number> = {}
  const kafkajsLogCreator: logCreator = () => ({ namespace, level, log }) => {
    const label = `${logLevel[level]} ${namespace}: ${String(log.message).slice(0, 100)}`
    if ((kafkajsLogs[label] = (kafkajsLogs[label] ?? 0) + 1) <= 3) progress(`  kafkajs ${label}${log.error ? ` (${String(log.error).slice(0, 100)})` : ''}`)
  }
  const ctx: Ctx = {
    brokers, replicas,
    admin: new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers, timeout: 10_000, retries: 5, retryDelay: 500 }),
    kafka: new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.WARN, logCreator: kafkajsLogCreator }),
    data: buildDataset(opts.messages),
    messages: opts.messages,
    createdTopics: new Set(),
    createdGroups: new Set()
  }
  let interrupted = false
  const cleanup = async (): Promise<void> => {
    await deleteGroups(ctx, [...ctx.createdGroups])
    await deleteTopics(ctx, [...ctx.createdTopics])
  }
  process.once('SIGINT', () => {
    interrupted = true
    progress('interrupted: deleting bench topics')
    void bounded('cleanup', 20_000, cleanup()).finally(() => process.exit(130))
  })

  const records: RunRecord[] = []
  // An untimed warm-up round first (JIT, connections, broker caches): the services are long-lived, so steady state is what counts.
  const warmupRecords: RunRecord[] = []
  const warmupMessages = Math.min(opts.messages, 20_000)
  try {
    await ctx.admin.metadata({ topics: [] })
    for (let run = -1; run < opts.runs && !interrupted; run++) {
      const warm = run < 0
      const sink = warm ? warmupRecords : records
      ctx.messages = warm ? warmupMessages : opts.messages
      const order = warm || run % 2 === 0 ? clients : [...clients].reverse()
      const tag = warm ? 'warmup' : `r${run}`
      const topic = (c: ClientName, m: string): string => `bench-kc-${suffix}-${tag}-${c}-${m}`
      const group = (c: ClientName): string => `bench-kc-${suffix}-${tag}-${c}`
      const runTopics = clients.flatMap(c => [topic(c, 'seq'), topic(c, 'overlap')])
      for (const t of runTopics) await createTopic(ctx, t)
      progress(warm ? `warm-up round (${warmupMessages} messages, not counted)` : `run ${run + 1}/${opts.runs}: order ${order.join(', ')}`)

      for (const [measure, inFlight, kind] of [['produce', 1, 'seq'], ['produceOverlap', opts.inFlight, 'overlap']] as const) {
        for (const c of order) {
          if (interrupted) break
          const t = topic(c, kind)
          const r = c === 'platformatic' ? await producePlatformatic(ctx, t, inFlight) : await produceKafkajs(ctx, t, inFlight)
          sink.push({ run, order, client: c, measure, topic: t, result: r })
          const errs = Object.entries(r.errors).map(([k, v]) => `${k} ×${v}`).join(', ')
          progress(`  ${c.padEnd(12)} ${measure.padEnd(14)} ${fmt(r.msgPerSec).padStart(9)} msg/s  ${r.acked} acked, ${r.failed} failed, ${r.stored} stored in ${r.seconds.toFixed(2)} s${errs ? `  [${errs}]` : ''}`)
        }
      }
      for (const c of order) {
        if (interrupted) break
        const t = topic(c, 'seq')
        const expected = (sink.find(x => x.topic === t)?.result as ProduceOutcome | undefined)?.stored ?? 0
        const r = c === 'platformatic' ? await consumePlatformatic(ctx, t, group(c), expected) : await consumeKafkajs(ctx, t, group(c), expected)
        sink.push({ run, order, client: c, measure: 'consume', topic: t, result: r })
        progress(`  ${c.padEnd(12)} ${'consume'.padEnd(14)} ${fmt(r.msgPerSec).padStart(9)} msg/s  (${fmt(r.msgPerSecAfterJoin)} after join; joined after ${fmt(r.joinMs)} ms, first message after ${fmt(r.firstMessageMs)} ms) ${r.received}/${r.expected}${r.timedOut ? ' TIMED OUT' : ''}${r.error ? ` ${r.error}` : ''}`)
      }
      await deleteGroups(ctx, clients.map(group))
      await deleteTopics(ctx, runTopics)
    }
  } finally {
    await bounded('cleanup', 30_000, cleanup())
    await bounded('admin close', 5_000, ctx.admin.close())
  }
  if (interrupted) return

  // Summary
  const values = (client: ClientName, measure: MeasureName): number[] => records.filter(r => r.client === client).flatMap(r => {
    if (measure === 'produce' || measure === 'produceOverlap') return r.measure === measure ? [(r.result as ProduceOutcome).msgPerSec] : []
    if (r.measure !== 'consume') return []
    const c = r.result as ConsumeOutcome
    return [measure === 'consume' ? c.msgPerSec : measure === 'consumeAfterJoin' ? c.msgPerSecAfterJoin : measure === 'consumeJoinMs' ? c.joinMs : c.firstMessageMs]
  })
  const problems = (client: ClientName, measure: MeasureName): string[] => {
    const out: Record<string, number> = {}
    for (const r of records) {
      if (r.client !== client) continue
      if ((measure === 'produce' || measure === 'produceOverlap') && r.measure === measure) {
        const p = r.result as ProduceOutcome
        for (const [k, v] of Object.entries(p.errors)) out[`${k} (sends)`] = (out[`${k} (sends)`] ?? 0) + v
        if (p.stored !== p.acked) out[`stored ${p.stored} ≠ acked ${p.acked}`] = (out[`stored ${p.stored} ≠ acked ${p.acked}`] ?? 0) + 1
      } else if (measure === 'consume' && r.measure === 'consume') {
        const c = r.result as ConsumeOutcome
        if (c.timedOut) out[`timed out at ${c.received}/${c.expected}`] = 1
        if (c.error) out[c.error] = (out[c.error] ?? 0) + 1
      }
    }
    return Object.entries(out).map(([k, v]) => `${k} ×${v}`)
  }
  const measures: MeasureName[] = ['produce', 'produceOverlap', 'consume', 'consumeAfterJoin', 'consumeJoinMs', 'consumeFirstMessageMs']
  const summary = measures.map(m => {
    const p = median(values('platformatic', m))
    const k = median(values('kafkajs', m))
    return {
      measure: m,
      label: measureLabels[m].replace('F sends', `${opts.inFlight} sends`),
      platformatic: { median: p, runs: values('platformatic', m), problems: problems('platformatic', m) },
      kafkajs: { median: k, runs: values('kafkajs', m), problems: problems('kafkajs', m) },
      ratioPlatformaticToKafkajs: p / k
    }
  })

  const lines: string[] = []
  lines.push(`### Kafka clients on Bun ${versions.bun}: @platformatic/kafka ${versions.platformatic} vs kafkajs ${versions.kafkajs}`)
  lines.push('')
  lines.push(`${opts.messages.toLocaleString('en-US')} messages of ${VALUE_BYTES} B, keys user-<i % ${DISTINCT_KEYS}>, ${PARTITIONS} partitions, acks=all, idempotent, sends of ${SEND_SIZE}; median of ${opts.runs} interleaved runs after an untimed warm-up; broker ${brokers.join(',')}.`)
  lines.push('')
  lines.push('| measure | platformatic | kafkajs | platformatic / kafkajs | failures |')
  lines.push('| --- | ---: | ---: | ---: | --- |')
  for (const s of summary) {
    const fails = [...s.platformatic.problems.map(x => `platformatic: ${x}`), ...s.kafkajs.problems.map(x => `kafkajs: ${x}`)].join('; ') || 'none'
    lines.push(`| ${s.label} | ${fmt(s.platformatic.median)} | ${fmt(s.kafkajs.median)} | ${fmt(s.ratioPlatformaticToKafkajs, 2)} | ${fails} |`)
  }
  lines.push('')
  lines.push(`Partitioner agreement with the Java client (${agreement.keys.toLocaleString('en-US')} keys user-<i>, ${agreement.partitions} partitions):`)
  lines.push('')
  lines.push('| partitioner | keys on another partition than Java | example (key: java → client) |')
  lines.push('| --- | ---: | --- |')
  for (const [name, count] of Object.entries(agreement.disagreements) as Array<[PartitionerName, number]>) {
    const ex = agreement.examples[name][0]
    lines.push(`| ${name} | ${count.toLocaleString('en-US')} (${(100 * count / agreement.keys).toFixed(1)} %) | ${ex ? `${ex[0]}: ${ex[1]} → ${ex[2]}` : ''} |`)
  }
  process.stdout.write(lines.join('\n') + '\n')

  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const dir = join(import.meta.dir, 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `kafka-clients-${stamp}.json`)
  writeFileSync(file, JSON.stringify({
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    brokers, replicas, versions,
    options: { ...opts, partitions: PARTITIONS, sendSize: SEND_SIZE, distinctKeys: DISTINCT_KEYS, valueBytes: VALUE_BYTES, explicitPartitions: 'partitionForKey (Java-compatible)' },
    summary, partitioner: agreement, kafkajsLogs, runs: records, warmup: { messages: warmupMessages, runs: warmupRecords }
  }, (_, v) => typeof v === 'number' && !Number.isFinite(v) ? null : v, 2) + '\n')
  progress(`wrote ${file} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

if (import.meta.main) {
  main().then(() => process.exit(0), err => {
    progress(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    process.exit(1)
  })
}
