import { expect, test } from 'bun:test'
import { BatchingProducer } from './batching-producer.ts'

test('the clock-skew allowance must leave part of the deadline to Kafka', async () => {
  const make = (deadlineMs: number, clockSkewMs: number) => new BatchingProducer({ brokers: ['127.0.0.1:9'], clientId: 'skew-test', deadlineMs, clockSkewMs })
  expect(() => make(1000, 1000)).toThrow(/clockSkewMs \(1000\) must be at least 0 and below deadlineMs \(1000\)/)
  expect(() => make(1000, -1)).toThrow(/clockSkewMs/)
  const ok = make(1000, 999)
  await ok.close()
})
