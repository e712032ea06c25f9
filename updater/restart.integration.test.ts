import { expect, test } from 'bun:test'
import { Admin } from '@platformatic/kafka'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { partitionForKey } from '../shared/kafka/partitioner.ts'
import { encodeCommand } from '../shared/schemas/command.ts'
import { brokers, waitFor } from '../test/support/stack.ts'
import { command, makeTable, makeTopics, readyz, spawnUpdater, updaterEnv, type UpdaterProcess } from './integration-support.ts'

// Partitions are pinned, not assigned by a consumer group: restarting one updater causes no
// rebalance, so the other's partitions never stop committing. Measured under a steady stream as
// each command's time from the producer's ack to a commit past it, on the other updater's
// partitions against the restarted one's (which do pause: that shows the measure sees a pause).
const PARTITIONS = 4
const OTHERS_BOUND_MS = 2000

test('restarting one updater never pauses the other: its partitions keep committing each command within a bound', async () => {
  const topics = await makeTopics('restart', PARTITIONS)
  const table = await makeTable('restart')
  const env = updaterEnv(topics, table, { UPDATER_LEASE_TTL_MS: '3000' })
  const group = env.UPDATER_GROUP_ID!
  const envA = { ...env, UPDATER_PARTITIONS: '0,1' }
  const envB = { ...env, UPDATER_PARTITIONS: '2,3', PORT: String(Number(env.PORT) + 1) }
  let a: UpdaterProcess = spawnUpdater(envA)
  const b = spawnUpdater(envB)
  const admin = new Admin({ clientId: 'test-restart', bootstrapBrokers: brokers(), timeout: 5000 })
  const producer = new BatchingProducer({ brokers: brokers(), clientId: 'test-restart', lingerMs: 1 })
  // Two users on each partition.
  const users: string[] = []
  for (let i = 0; users.length < 2 * PARTITIONS; i++) {
    const u = `restart-user-${i}`
    if (users.filter(x => partitionForKey(x, PARTITIONS) === partitionForKey(u, PARTITIONS)).length < 2) users.push(u)
  }
  const newId = createIdGenerator()
  let streaming = true
  let polling = true
  const acks: Array<{ partition: number, offset: number, at: number }> = []
  const commits: Array<{ partition: number, offset: number, at: number }> = []
  try {
    await producer.connect([topics.commands])
    await waitFor('both updaters ready', async () => (await readyz(a.port)).status === 200 && (await readyz(b.port)).status === 200, 30_000, 100)
    const stream = (async () => {
      for (let n = 0; streaming; n++) {
        const userId = users[n % users.length]!
        const ack = await producer.send(topics.commands, userId, encodeCommand(command('trip.create', userId, newId(), { tripId: newId(), name: `Trip ${n}` })))
        acks.push({ partition: ack.partition, offset: Number(ack.offset), at: performance.now() })
        await Bun.sleep(10)
      }
    })()
    const poll = (async () => {
      const last = new Map<number, number>()
      while (polling) {
        // A broker just started answers COORDINATOR_LOAD_IN_PROGRESS for a while: ask again.
        const [g] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topics.commands, partitionIndexes: [0, 1, 2, 3] }] }] }).catch(() => [undefined])
        const at = performance.now()
        for (const t of g?.topics ?? []) {
          for (const p of t.partitions) {
            const offset = Number(p.committedOffset)
            if (offset > (last.get(p.partitionIndex) ?? -1)) { last.set(p.partitionIndex, offset); commits.push({ partition: p.partitionIndex, offset, at }) }
          }
        }
        await Bun.sleep(20)
      }
    })()
    await Bun.sleep(1500)
    // A rolling restart: SIGTERM (the batch in hand committed, leases released), then a new process.
    const stoppedAt = performance.now()
    expect(await a.stop('SIGTERM')).toBe(0)
    a = spawnUpdater(envA)
    await waitFor('the restarted updater to commit again', () => commits.some(c => c.partition < 2 && c.at > stoppedAt + 500), 30_000, 50)
    await Bun.sleep(500)
    streaming = false
    await stream
    await waitFor('every command committed', () => acks.every(k => commits.some(c => c.partition === k.partition && c.offset > k.offset)), 15_000, 50)
    polling = false
    await poll

    // Per partition, the longest a command acked from just before the stop on waited for its commit.
    const longest = (p: number) => Math.max(...acks.filter(k => k.partition === p && k.at > stoppedAt - 200)
      .map(k => commits.find(c => c.partition === p && c.offset > k.offset)!.at - k.at))
    const waits = [0, 1, 2, 3].map(p => Math.round(longest(p)))
    if (process.env.TEST_LOGS) process.stderr.write(`longest ack-to-commit (ms) per partition: ${JSON.stringify(waits)}\n`)
    // The restarted one's commands did wait (the measure sees a pause where there is one).
    expect(Math.min(waits[0]!, waits[1]!)).toBeGreaterThan(2 * Math.max(waits[2]!, waits[3]!))
    expect(Math.max(waits[2]!, waits[3]!)).toBeLessThan(OTHERS_BOUND_MS)
    expect(b.logs()).not.toContain('updater_lease_lost')
  } finally {
    streaming = false
    polling = false
    await producer.close().catch(() => {})
    await admin.close().catch(() => {})
    await Promise.all([a, b].map(u => u.stop('SIGTERM').catch(() => 0)))
  }
}, 90_000)
