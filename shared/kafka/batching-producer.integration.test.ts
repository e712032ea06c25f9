import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir, homedir } from 'node:os'
import { brokers, uniq } from '../../test/support/stack.ts'
import { readTopic } from '../../test/support/kafka.ts'
import { testLogger } from '../../test/support/logger.ts'
import { BatchingProducer } from './batching-producer.ts'
import { KafkaAdapterError } from './errors.ts'
import { partitionForKey } from './partitioner.ts'
import { ensureTopics } from './topics.ts'

const topic = uniq('producer-test')
const partitions = 12
let producer: BatchingProducer

beforeAll(async () => {
  await ensureTopics(brokers(), [{ name: topic, partitions, replicationFactor: 1, configs: {} }], testLogger)
  producer = new BatchingProducer({ brokers: brokers(), clientId: 'test', lingerMs: 5, maxBatchMessages: 250, deadlineMs: 10_000 })
  await producer.connect([topic])
})
afterAll(async () => { await producer.close() })

describe('BatchingProducer against the real broker', () => {
  test('2,000 concurrent sends: every promise settles with its own offset, nothing is produced twice', async () => {
    const n = 2000
    const acks = await Promise.all(Array.from({ length: n }, (_, i) => producer.send(topic, `user-${i % 137}`, JSON.stringify({ i }), { 'x-seq': String(i) })))
    // Each ack names the partition the Java client would pick, and (partition, offset) pairs are unique.
    const seen = new Set<string>()
    acks.forEach((ack, i) => {
      expect(ack.partition).toBe(partitionForKey(`user-${i % 137}`, partitions))
      seen.add(`${ack.partition}:${ack.offset}`)
    })
    expect(seen.size).toBe(n)

    const records = await readTopic(topic, n)
    expect(records.length).toBe(n)
    const byPosition = new Map(records.map(r => [`${r.partition}:${r.offset}`, r]))
    acks.forEach((ack, i) => {
      const r = byPosition.get(`${ack.partition}:${ack.offset}`)
      expect(r).toBeDefined()
      expect(JSON.parse(r!.value).i).toBe(i)
      expect(r!.key).toBe(`user-${i % 137}`)
      expect(r!.headers['x-seq']).toBe(String(i))
    })
  })

  test('records of one key land in one partition, in the order they were sent, on a topic created a moment before (leaders still settling)', async () => {
    const t = uniq('order-test')
    await ensureTopics(brokers(), [{ name: t, partitions, replicationFactor: 1, configs: {} }], testLogger)
    const p = new BatchingProducer({ brokers: brokers(), clientId: 'test-order', lingerMs: 1, maxBatchMessages: 7 }) // one send in flight (the default)
    await p.connect([t])
    const keys = ['alice', 'bob', 'carol', 'dave']
    const sends: Array<Promise<unknown>> = []
    for (let seq = 0; seq < 200; seq++) for (const k of keys) sends.push(p.send(t, k, `${k}:${seq}`))
    await Promise.all(sends)
    await p.close()
    const records = await readTopic(t, 800)
    for (const k of keys) {
      const mine = records.filter(r => r.key === k)
      expect(new Set(mine.map(r => r.partition))).toEqual(new Set([partitionForKey(k, partitions)]))
      const seqs = mine.sort((a, b) => Number(a.offset - b.offset)).map(r => Number(r.value.split(':')[1]))
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i))
    }
  })

  test('a send that Kafka cannot take rejects by its deadline, never hangs', async () => {
    // A producer whose broker address accepts nothing: every caller hears back within the deadline.
    const p = new BatchingProducer({ brokers: ['127.0.0.1:1'], clientId: 'test-dead', deadlineMs: 300 })
    ;(p as unknown as { partitionCounts: Map<string, number> }).partitionCounts.set('nowhere', 3)
    const t0 = performance.now()
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => p.send('nowhere', `k${i}`, 'v')))
    const elapsed = performance.now() - t0
    expect(results.every(r => r.status === 'rejected' && r.reason instanceof KafkaAdapterError && r.reason.canRetry)).toBe(true)
    expect(elapsed).toBeLessThan(1500)
    await p.close().catch(() => {})
  })
})

describe('partitioning equals the Java client', () => {
  test('partitionForKey matches org.apache.kafka.common.utils.Utils on 2,000 keys, computed by the real Java client', async () => {
    const repo = process.env.MAVEN_REPO ?? join(homedir(), '.cache', 'road-warrior', 'm2')
    const cpFile = readdirSync(join(repo, '..')).find(f => f.startsWith('kafka-classpath-'))
    expect(cpFile).toBeDefined()
    const classpath = readFileSync(join(repo, '..', cpFile!), 'utf8').trim()
    const keys = Array.from({ length: 2000 }, (_, i) => i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? `R${i.toString(36)}é` : `${i}`.repeat(1 + (i % 7)))
    const dir = mkdtempSync(join(tmpdir(), 'javapart-'))
    writeFileSync(join(dir, 'keys.txt'), keys.join('\n'))
    writeFileSync(join(dir, 'Partition.java'), `
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import org.apache.kafka.common.utils.Utils;
public class Partition {
  public static void main(String[] a) throws Exception {
    StringBuilder out = new StringBuilder();
    for (String k : Files.readAllLines(Paths.get(a[0]), StandardCharsets.UTF_8)) {
      out.append(Utils.toPositive(Utils.murmur2(k.getBytes(StandardCharsets.UTF_8))) % 12).append('\\n');
    }
    System.out.print(out);
  }
}`)
    const proc = Bun.spawn(['java', '-cp', classpath, join(dir, 'Partition.java'), join(dir, 'keys.txt')], { stdout: 'pipe', stderr: 'pipe' })
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    expect(err).toBe('')
    expect(code).toBe(0)
    const java = out.trim().split('\n').map(Number)
    expect(java.length).toBe(keys.length)
    expect(keys.map(k => partitionForKey(k, 12))).toEqual(java)
  }, 60_000)
})
