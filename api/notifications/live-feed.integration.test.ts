import { afterAll, beforeAll, expect, test } from 'bun:test'
import { newId } from '../../shared/domain/ids.ts'
import { BatchingProducer } from '../../shared/kafka/batching-producer.ts'
import { ensureTopics } from '../../shared/kafka/topics.ts'
import { encodeNotification, type Notification } from '../../shared/schemas/notification.ts'
import { testLogger } from '../../test/support/logger.ts'
import { brokers, uniq, waitFor } from '../../test/support/stack.ts'
import { LiveFeed } from './live-feed.ts'

const topic = uniq('live-feed')
let producer: BatchingProducer

function notification(userId: string, id = newId()): Notification {
  return {
    id, userId, reservationId: newId(), kind: 'cancelled', message: 'AF 123 was cancelled', createdAt: Date.now(),
    data: { tripId: `unassigned-${userId}`, seq: 1, status: 'cancelled', title: 'AF 123', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' },
  }
}

beforeAll(async () => {
  await ensureTopics(brokers(), [{ name: topic, partitions: 12, replicationFactor: 1, configs: {} }], testLogger)
  producer = new BatchingProducer({ brokers: brokers(), clientId: 'live-feed-test', lingerMs: 1 })
  // a topic just created can take a moment to show in metadata
  await waitFor('the topic in metadata', () => producer.connect([topic]).then(() => true), 15_000, 200)
})
afterAll(async () => {
  await producer.close()
})

test('every API process sees every notification once, from the moment it starts; bad records are skipped', async () => {
  const before = notification('early')
  await producer.send(topic, before.userId, encodeNotification(before))
  const got: Array<Array<[string, Notification]>> = [[], []]
  const feeds = got.map((into) => new LiveFeed({ brokers: brokers(), topic, publish: (u, n) => into.push([u, n]), log: testLogger }))
  try {
    await Promise.all(feeds.map((f) => f.start()))
    await waitFor('both feeds in their groups', () => feeds.every((f) => f.ready()), 10_000)
    const a1 = notification('alice')
    const a2 = notification('alice')
    const b1 = notification('bob')
    await producer.send(topic, 'alice', encodeNotification(a1))
    await producer.send(topic, 'alice', '{"not":"a notification"}')
    await producer.send(topic, 'alice', encodeNotification(a1)) // the notifier republished after a retry
    await producer.send(topic, 'alice', encodeNotification(a2))
    await producer.send(topic, 'bob', encodeNotification(b1))
    // Not a fixed wait: sentinels, a later notification of each user (same key, so after the others
    // on its partition); once a feed has them all, it has read everything before them.
    const sentinels = ['alice', 'bob', 'early'].map((u) => notification(u))
    for (const n of sentinels) await producer.send(topic, n.userId, encodeNotification(n))
    await waitFor('both feeds past the sentinels', () => got.every((g) => sentinels.every((s) => g.some(([, n]) => n.id === s.id))), 15_000)
    const [sa, sb, se] = sentinels
    for (const g of got) {
      expect(g.filter(([u]) => u === 'alice').map(([, n]) => n.id)).toEqual([a1.id, a2.id, sa!.id]) // in order, once
      expect(g.filter(([u]) => u === 'bob').map(([, n]) => n)).toEqual([b1, sb!])
      expect(g.filter(([u]) => u === 'early').map(([, n]) => n.id)).toEqual([se!.id]) // a live feed: history comes from DynamoDB
    }
  } finally {
    await Promise.all(feeds.map((f) => f.stop()))
  }
  expect(feeds.some((f) => f.ready())).toBe(false)
})
