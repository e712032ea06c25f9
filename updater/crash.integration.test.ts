import { afterAll, expect, test } from 'bun:test'
import { Admin } from '@platformatic/kafka'
import { decodeStatusEvent } from '../shared/schemas/status-event.ts'
import { readTopic } from '../test/support/kafka.ts'
import { brokers, waitFor } from '../test/support/stack.ts'
import {
  committedOffsets, dumpTable, expectedTable, makeTable, makeTopics, produce, spawnUpdater, tableDiff, testDb, updaterEnv, workload, type UpdaterProcess
} from './integration-support.ts'

const db = testDb()
afterAll(() => db.destroy())

/** Sets the group's committed offsets (partition -> next offset to read) while no updater runs. */
async function rewind (group: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<void> {
  const admin = new Admin({ clientId: 'crash-rewind', bootstrapBrokers: brokers(), timeout: 5000 })
  try {
    await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }] })
  } finally {
    await admin.close()
  }
}

test('kill -9 in the middle of a stream, four times at different points, restart: nothing lost, nothing applied twice, repeated events carry the same content', async () => {
  const partitions = 6
  const topics = await makeTopics('crash', partitions)
  const table = await makeTable('crash')
  // Small batches: more batch boundaries for a kill to fall between write, produce and commit.
  const env = updaterEnv(topics, table, { UPDATER_BATCH_MAX_MESSAGES: '40', UPDATER_LEASE_TTL_MS: '2000' })
  const commands = workload(300, 4000, 11)
  let updater: UpdaterProcess = spawnUpdater(env)
  const produced: Awaited<ReturnType<typeof produce>> = []
  const streaming = (async () => {
    for (let i = 0; i < commands.length; i += 200) {
      produced.push(...await produce(topics.commands, commands.slice(i, i + 200)))
      await Bun.sleep(350)
    }
  })()
  const kills: number[] = []
  try {
    for (const afterMs of [800, 1500, 1100, 1900]) {
      await Bun.sleep(afterMs)
      updater.proc.kill('SIGKILL')
      await updater.proc.exited
      kills.push(produced.length)
      updater = spawnUpdater(env)
    }
    await streaming
    const ends = new Map<number, number>()
    for (const p of produced) ends.set(p.partition, Math.max(ends.get(p.partition) ?? 0, p.offset + 1))
    await waitFor('all committed', async () => {
      const c = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
      return [...ends].every(([p, end]) => c.get(p) === end)
    }, 60_000, 250)
    // Versions count the commands applied to each item: a command applied twice would show.
    expect(tableDiff(expectedTable(produced), await dumpTable(db, table)).slice(0, 5)).toEqual([])
    // Kills landed mid-stream, not after it.
    expect(kills.some(k => k < commands.length)).toBe(true)

    // The kills repeat events only if one fell between a produce and its commit: make a repeat
    // certain too. Each partition's last 40 commands are read again by a new updater; their
    // batches re-emit the stored event of every reservation last changed at those offsets.
    await updater.stop()
    const partitionOf = new Map(produced.map(p => [p.command.userId, p.partition]))
    const from = new Map([...ends].map(([p, end]) => [p, Math.max(0, end - 40)]))
    const replayed = new Set<string>()
    for (const item of (await dumpTable(db, table)).values()) {
      const ev = item.lastEvent as { reservationId: string, seq: number, userId: string } | undefined
      if (ev && ev.seq >= from.get(partitionOf.get(ev.userId)!)!) replayed.add(`${ev.reservationId}@${ev.seq}`)
    }
    expect(replayed.size).toBeGreaterThan(0)
    await rewind(env.UPDATER_GROUP_ID!, topics.commands, from)
    updater = spawnUpdater(env)
    await waitFor('all committed again', async () => {
      const c = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
      return [...ends].every(([p, end]) => c.get(p) === end)
    }, 60_000, 250)
    expect(tableDiff(expectedTable(produced), await dumpTable(db, table)).slice(0, 5)).toEqual([])

    const records = await readTopic(topics.status, 1, 20_000, 1500)
    const bySeq = new Map<string, string>()
    const repeated = new Set<string>()
    let repeats = 0
    for (const r of records) {
      const d = decodeStatusEvent(r.value)
      expect(d.ok).toBe(true)
      if (!d.ok) continue
      const k = `${d.event.reservationId}@${d.event.seq}`
      const prev = bySeq.get(k)
      if (prev !== undefined) { repeats++; repeated.add(k); expect(r.value).toBe(prev) }
      bySeq.set(k, r.value)
    }
    expect([...replayed].filter(k => !repeated.has(k))).toEqual([])
    // Every reservation's last stored event was produced.
    const table_ = await dumpTable(db, table)
    for (const item of table_.values()) {
      const ev = item.lastEvent as { reservationId: string, seq: number } | undefined
      if (ev) expect(bySeq.has(`${ev.reservationId}@${ev.seq}`)).toBe(true)
    }
    process.stderr.write(`crash test: kills after ${kills.join(', ')} produced commands; ${records.length} status events, ${repeats} repeated with identical content\n`)
  } finally {
    await updater.stop()
  }
}, 120_000)
