import { afterAll, expect, test } from 'bun:test'
import { waitFor } from '../test/support/stack.ts'
import {
  PrivateDynalite, committedOffsets, dumpTable, expectedTable, makeTable, makeTopics, produce, readyz, spawnUpdater, tableDiff, testDb, updaterEnv, workload
} from './integration-support.ts'

const dynalite = new PrivateDynalite()
afterAll(() => dynalite.destroy())

test('a private dynalite stopped for 20 s mid-stream: the updater reports unready, commits nothing past what was written, and everything lands after', async () => {
  await dynalite.start()
  const db = testDb(dynalite.endpoint)
  const partitions = 4
  const topics = await makeTopics('outage', partitions)
  const table = await makeTable('outage', dynalite.endpoint)
  const env = updaterEnv(topics, table, { DYNAMODB_ENDPOINT: dynalite.endpoint, UPDATER_BATCH_MAX_MESSAGES: '50', UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS: '1000', UPDATER_WRITE_MAX_ATTEMPTS: '4' })
  const commands = workload(200, 2400, 23)
  let updater = spawnUpdater(env)
  const produced: Awaited<ReturnType<typeof produce>> = []
  try {
    const streaming = (async () => {
      for (let i = 0; i < commands.length; i += 100) {
        produced.push(...await produce(topics.commands, commands.slice(i, i + 100)))
        await Bun.sleep(150)
      }
    })()
    await waitFor('some commits', async () => (await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)).size > 0, 20_000, 100)
    await dynalite.stop()
    const stoppedAt = Date.now()
    await waitFor('unready during the outage', async () => (await readyz(updater.port)).status === 503, 10_000, 200)
    // Let a few seconds pass (batches in flight give up), then note what is committed.
    await Bun.sleep(8000)
    const during = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
    await streaming
    await Bun.sleep(Math.max(0, 20_000 - (Date.now() - stoppedAt) - 4000))
    const late = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
    expect(late).toEqual(during) // nothing moves while DynamoDB is gone
    // Freeze the updater (kill -9) so the table can be checked against the commits as they stand.
    updater.proc.kill('SIGKILL')
    await updater.proc.exited
    await Bun.sleep(Math.max(0, 20_000 - (Date.now() - stoppedAt)))
    await dynalite.start()
    const committed = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
    // Everything below each committed offset is in the table (items at least that far along).
    const prefix = produced.filter(p => p.offset < (committed.get(p.partition) ?? 0))
    const actual = await dumpTable(db, table)
    for (const [k, item] of expectedTable(prefix)) {
      const a = actual.get(k)
      expect(a === undefined ? `missing ${k}` : 'ok').toBe('ok')
      expect(Number(a?.lastOffset)).toBeGreaterThanOrEqual(item.lastOffset)
    }
    // Back: a new updater replays from the commits and everything lands.
    updater = spawnUpdater(env)
    const ends = new Map<number, number>()
    for (const p of produced) ends.set(p.partition, Math.max(ends.get(p.partition) ?? 0, p.offset + 1))
    await waitFor('all committed after the outage', async () => {
      const c = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
      return [...ends].every(([p, end]) => c.get(p) === end)
    }, 60_000, 250)
    expect(tableDiff(expectedTable(produced), await dumpTable(db, table)).slice(0, 5)).toEqual([])
    await waitFor('ready again', async () => (await readyz(updater.port)).status === 200, 10_000)
  } finally {
    await updater.stop()
    db.destroy()
  }
}, 120_000)

test('DynamoDB gone while the updater keeps running: it retries on its own and lands everything when it returns', async () => {
  const db = testDb(dynalite.endpoint)
  const partitions = 2
  const topics = await makeTopics('outage2', partitions)
  const table = await makeTable('outage2', dynalite.endpoint)
  const env = updaterEnv(topics, table, { DYNAMODB_ENDPOINT: dynalite.endpoint, UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS: '1000', UPDATER_WRITE_MAX_ATTEMPTS: '3' })
  const updater = spawnUpdater(env)
  try {
    await waitFor('ready', async () => (await readyz(updater.port)).status === 200, 20_000)
    await dynalite.stop()
    const produced = await produce(topics.commands, workload(50, 400, 31))
    await Bun.sleep(5000)
    expect((await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)).size).toBe(0)
    await dynalite.start()
    const ends = new Map<number, number>()
    for (const p of produced) ends.set(p.partition, Math.max(ends.get(p.partition) ?? 0, p.offset + 1))
    await waitFor('all committed', async () => {
      const c = await committedOffsets(env.UPDATER_GROUP_ID!, topics.commands, partitions)
      return [...ends].every(([p, end]) => c.get(p) === end)
    }, 40_000, 250).catch(async err => {
      // Leave what the updater said and how its partitions stand, for whoever reads the CI log.
      const states = await fetch(`http://127.0.0.1:${updater.port}/partitions`).then(r => r.text()).catch(e => String(e))
      process.stderr.write(`updater partitions: ${states}\nupdater log (tail):\n${updater.logs().split('\n').slice(-40).join('\n')}\n`)
      throw err
    })
    expect(tableDiff(expectedTable(produced), await dumpTable(db, table)).slice(0, 5)).toEqual([])
  } finally {
    await updater.stop()
    db.destroy()
  }
}, 90_000)
