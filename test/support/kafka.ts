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
