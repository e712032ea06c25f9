import { Consumer, MessagesStreamModes } from '@platformatic/kafka'
import { brokers, uniq } from './stack.ts'

export interface Read { key: string, value: string, partition: number, offset: bigint, headers: Record<string, string> }

/**
 * Reads `topic` from the beginning with a throw-away consumer group until `count` records arrived
 * (or the timeout passes, which fails), then a short while longer to catch extra (duplicate) records.
 */
export async function readTopic (topic: string, count: number, timeoutMs = 30_000, settleMs = 500): Promise<Read[]> {
  const consumer = new Consumer({ groupId: uniq('test-reader'), clientId: 'test-reader', bootstrapBrokers: brokers(), maxWaitTime: 100, timeout: 5000 })
  const out: Read[] = []
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
  let reachedAt = 0
  const deadline = Date.now() + timeoutMs
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (reachedAt && Date.now() - reachedAt >= settleMs) { clearInterval(timer); resolve() }
        if (Date.now() > deadline) { clearInterval(timer); reject(new Error(`read ${out.length} of ${count} records of ${topic} in ${timeoutMs} ms`)) }
      }, 50)
      stream.on('data', m => {
        const headers: Record<string, string> = {}
        for (const [k, v] of m.headers) headers[k.toString()] = v.toString()
        out.push({ key: m.key.toString(), value: m.value.toString(), partition: m.partition, offset: m.offset, headers })
        if (out.length >= count && !reachedAt) reachedAt = Date.now()
      })
      stream.on('error', err => { clearInterval(timer); reject(err) })
    })
  } finally {
    await stream.close().catch(() => {})
    await consumer.close(true).catch(() => {})
  }
  return out
}

/**
 * Every record of `topic` from the beginning, kept as it arrives, until stopped (a throw-away
 * consumer group): for tests that watch a topic while they act. `map` keeps what a test needs of a
 * record (undefined drops it).
 */
export class TopicTail<T = Read> {
  readonly records: T[] = []
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined
  private stream: { close (): Promise<void> } | undefined

  constructor (private readonly map: (r: Read) => T | undefined = r => r as T) {}

  async start (topic: string): Promise<this> {
    this.consumer = new Consumer({ groupId: uniq('test-tail'), clientId: 'test-tail', bootstrapBrokers: brokers(), maxWaitTime: 50, timeout: 5000 })
    const stream = await this.consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
    stream.on('data', m => {
      const headers: Record<string, string> = {}
      for (const [k, v] of m.headers) headers[k.toString()] = v.toString()
      const kept = this.map({ key: m.key?.toString() ?? '', value: m.value?.toString() ?? '', partition: m.partition, offset: m.offset, headers })
      if (kept !== undefined) this.records.push(kept)
    })
    this.stream = stream
    return this
  }

  async stop (): Promise<void> {
    await this.stream?.close().catch(() => {})
    await this.consumer?.close(true).catch(() => {})
  }
}
