import { join } from 'node:path'
import { Admin, Producer, ProduceAcks, type MessageToProduce } from '@platformatic/kafka'
import { repoRoot } from '../../infra/stack/stack.ts'
import { newId } from '../../shared/domain/ids.ts'
import { partitionForKey } from '../../shared/kafka/partitioner.ts'
import { deadLetterTopic } from '../../shared/kafka/topics.ts'
import { leaseKey } from '../../updater/lease.ts'
import { DeleteCommand } from '@aws-sdk/lib-dynamodb'
import { encodeCommand, type Command } from '../../shared/schemas/command.ts'
import { readable, secs, type BenchContext } from '../lib/context.ts'
import { cpuMeter } from '../lib/load.ts'
import { freePort, waitHttp } from '../lib/processes.ts'
import { batchWrite, reservationBody, seedItems } from '../lib/seed.ts'
import { fmtNum, ratio } from '../lib/stats.ts'
import type { LoadRun, Scenario } from '../lib/types.ts'

interface Key { userId: string, reservationId: string }

/** Commands per user in the backlog (so the fold has several commands of one user per batch). */
const PER_USER = 50

/**
 * Scenario 6, updater drain: a backlog of N reservation.create commands on a topic of the bench's
 * own (same partition count), drained by 1 and then by 2 updater processes started here
 * (`bun updater/main.ts` with UPDATER_INDEX/UPDATER_COUNT, TOPIC_COMMANDS and TOPIC_STATUS pointing
 * at the bench's topics, so the stack's own updaters and notifier never see it). Progress is read
 * from the table alone: per partition, ten checkpoint commands in produce order; a partition is
 * drained when its last one is readable (one writer per partition keeps order). Beside it, a bare
 * BatchWriteItem loop (25 a request, 8 in flight) against the same dynalite.
 */
export async function drainScenario (ctx: BenchContext): Promise<Scenario> {
  const id = 'drain'
  const title = '6. Updater drain: backlog drained by 1 and 2 updaters vs a bare BatchWriteItem loop'
  const runs: LoadRun[] = []
  const bare = await bareBatchWrite(ctx, secs(ctx, 5000, 20_000))
  runs.push(bare)
  ctx.progress(`drain: bare BatchWriteItem loop: ${fmtNum(bare.rps)} items/s`)
  const u = (label: string, value: number, unit = 'items/s') => ({ label, value, unit })
  if (ctx.found.updaterApplies === false) {
    return { id, title, status: 'error', note: 'skipped the updater rounds: the probe at start saw no command applied (the updater is not built yet?); bare BatchWriteItem measured only', runs, metrics: { 'bare BatchWriteItem items/s': bare.rps }, ratios: [], seconds: 0 }
  }
  const n = secs(ctx, 20_000, 100_000)
  const brokers = ctx.stack.env.KAFKA_BROKERS!.split(',')
  const replicas = Number(ctx.stack.env.KAFKA_REPLICATION_FACTOR ?? 1)
  const admin = new Admin({ clientId: 'bench-drain', bootstrapBrokers: brokers, timeout: 10_000, retries: 5, retryDelay: 500 })
  const topics: string[] = []
  const leaseTopics: string[] = []
  const results: Array<{ updaters: number, perSec: number, itemsPerSec: number, items: number, seconds: number, done: number }> = []
  try {
    for (const updaters of [1, 2]) {
      const cmdTopic = `bench-drain-${ctx.runId}-${updaters}`
      const statusTopic = `${cmdTopic}-status`
      // The updater also produces to its dead-letter topic `<command topic>.dlq.updater` and will not
      // start without it (updater_start_retry "Unknown topic …dlq.updater"): create it too, as the
      // stack's provisioning does for the real topics.
      const dlqTopic = deadLetterTopic(cmdTopic, 'updater')
      await admin.createTopics({ topics: [cmdTopic, statusTopic], partitions: ctx.partitions, replicas })
      await admin.createTopics({ topics: [dlqTopic], partitions: 1, replicas })
      topics.push(cmdTopic, statusTopic, dlqTopic)
      leaseTopics.push(cmdTopic)
      await Bun.sleep(500)
      ctx.progress(`drain: producing ${fmtNum(n)} commands to ${cmdTopic}`)
      const checkpoints = await produceBacklog(brokers, cmdTopic, ctx.partitions, n, `bench-d-${ctx.runId}-${updaters}-`)
      const names = Array.from({ length: updaters }, (_, i) => `drain-updater-${updaters}-${i}`)
      const stopCpu = cpuMeter()
      const ports: number[] = []
      // Each round's updaters are private: their own topics (so their own leases, `LEASE#<topic>`),
      // their own consumer group for committed offsets (never the stack's `updater` group), a port
      // of their own, and no ended-trips task (it would scan the shared table and add commands).
      await Promise.all(names.map(async (name, i) => {
        const port = freePort()
        ports.push(port)
        const p = ctx.procs.spawn(name, [process.execPath, join(repoRoot, 'updater', 'main.ts')], {
          ...ctx.stack.env, TOPIC_COMMANDS: cmdTopic, TOPIC_STATUS: statusTopic, UPDATER_INDEX: String(i), UPDATER_COUNT: String(updaters),
          UPDATER_GROUP_ID: `${cmdTopic}-updater`, UPDATER_FINISHER_INTERVAL_MS: '0',
          PORT: String(port), KAFKA_CLIENT_ID: `bench-drain-${ctx.runId}`, LOG_LEVEL: 'warn'
        })
        await waitHttp(`http://127.0.0.1:${port}/readyz`, 45_000, p).catch(async err => {
          const parts = await fetch(`http://127.0.0.1:${port}/partitions`, { signal: AbortSignal.timeout(1000) }).then(r => r.text()).catch(() => 'no answer')
          throw new Error(`${(err as Error).message}; /partitions: ${parts.slice(0, 300)}; log: ${ctx.procs.logFile(name)}`)
        })
      }))
      ctx.progress(`drain: ${updaters} updater(s) started; waiting for the backlog to drain`)
      const r = await watchDrain(ctx, checkpoints, n, secs(ctx, 60_000, 300_000), secs(ctx, 10_000, 20_000))
      const cpu = stopCpu()
      // Items written, from the updaters' own counter (a create writes its reservation, and the
      // trip item of each user touched in a batch): the figure to set beside the bare loop's items/s.
      const items = (await Promise.all(ports.map(port => itemsWritten(port)))).reduce((a, b) => a + b, 0)
      await Promise.all(names.map(nm => ctx.procs.stop(nm, 20_000)))
      const itemsPerSec = r.seconds > 0 ? items / r.seconds : 0
      results.push({ updaters, perSec: r.perSec, itemsPerSec, items, seconds: r.seconds, done: r.fraction })
      runs.push({ label: `${updaters} updater(s), items written`, model: 'closed', url: cmdTopic, connections: updaters, durationS: Math.round(r.seconds), requests: items, rps: itemsPerSec,
        latency: { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN }, errors: 0, timeouts: 0, non2xx: 0, statusCodes: {}, timeline: r.timeline, cpu })
      ctx.progress(`drain: ${updaters} updater(s): ${Math.round(r.fraction * 100)} % of ${fmtNum(n)} in ${r.seconds.toFixed(1)} s = ${fmtNum(r.perSec)} commands/s, ${fmtNum(itemsPerSec)} items/s (${fmtNum(items)} items)${r.stalled ? ' (stalled)' : ''}`)
      if (r.fraction === 0) break
    }
  } finally {
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => {})
    await admin.close().catch(() => {})
    // The private updaters' leases are items of the shared table: remove them with their topics.
    await Promise.all(leaseTopics.flatMap(t => Array.from({ length: ctx.partitions }, (_, p) =>
      ctx.db.send(new DeleteCommand({ TableName: ctx.table, Key: leaseKey(t, p) })).catch(() => {}))))
  }
  const one = results.find(r => r.updaters === 1)
  const two = results.find(r => r.updaters === 2)
  const metrics: Record<string, number> = { 'bare BatchWriteItem items/s': bare.rps, 'backlog commands': n }
  if (one) Object.assign(metrics, { '1 updater items/s': one.itemsPerSec, '1 updater commands/s': one.perSec, '1 updater items per command': one.items / Math.max(1, one.done * n) })
  if (two) Object.assign(metrics, { '2 updaters items/s': two.itemsPerSec, '2 updaters commands/s': two.perSec })
  const ratios = [
    ratio('1 updater ÷ bare BatchWriteItem (items/s)', u('1 updater, items written', one?.itemsPerSec ?? NaN), u('bare BatchWriteItem', bare.rps)),
    ratio('2 updaters ÷ bare BatchWriteItem (items/s)', u('2 updaters, items written', two?.itemsPerSec ?? NaN), u('bare BatchWriteItem', bare.rps)),
    ratio('2 updaters ÷ 1 updater (items/s)', u('2 updaters', two?.itemsPerSec ?? NaN), u('1 updater', one?.itemsPerSec ?? NaN))
  ]
  const incomplete = results.filter(r => r.done < 1)
  if (!one || one.done === 0) return { id, title, status: 'error', note: 'one updater applied nothing of the backlog: the updater is not consuming the command topic (not built yet?)', runs, metrics, ratios, seconds: 0 }
  return {
    id, title, status: incomplete.length ? 'error' : 'info',
    note: `${fmtNum(n)} commands: 1 updater ${fmtNum(one.itemsPerSec)} items/s (${fmtNum(one.perSec)} commands/s)${two ? `, 2 updaters ${fmtNum(two.itemsPerSec)} items/s (${fmtNum(two.perSec)} commands/s)` : ''}, bare BatchWriteItem ${fmtNum(bare.rps)} items/s${incomplete.length ? `; not drained in time: ${incomplete.map(r => `${r.updaters} updater(s) at ${Math.round(r.done * 100)} %`).join(', ')}` : ''}`,
    runs, metrics, ratios, seconds: 0
  }
}

/** The updater's `updater_items_written_total` (all label sets summed) from its /metrics; 0 if unreadable. */
async function itemsWritten (port: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text()
    return text.split('\n').filter(l => /^updater_items_written_total(\{|\s)/.test(l)).reduce((a, l) => a + (Number(l.trim().split(/\s+/).at(-1)) || 0), 0)
  } catch { return 0 }
}

/** Produces n reservation.create commands (PER_USER per user); returns 10 checkpoints per partition, in order. */
async function produceBacklog (brokers: string[], topic: string, partitions: number, n: number, userPrefix: string): Promise<Key[][]> {
  const producer = new Producer({ clientId: 'bench-drain', bootstrapBrokers: brokers, idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false })
  const perPartition: Key[][] = Array.from({ length: partitions }, () => [])
  try {
    const users = Math.max(1, Math.ceil(n / PER_USER))
    const batch: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = []
    const sends: Promise<unknown>[] = []
    const body = reservationBody(7)
    for (let i = 0; i < n; i++) {
      const userId = `${userPrefix}${i % users}`
      const reservationId = newId()
      const command = { v: 1, id: newId(), type: 'reservation.create', userId, actorId: userId, acceptedAt: Date.now(), payload: { reservationId, ...body } } as Command
      const partition = partitionForKey(userId, partitions)
      perPartition[partition]!.push({ userId, reservationId })
      batch.push({ topic, key: Buffer.from(userId), value: Buffer.from(encodeCommand(command)), partition })
      if (batch.length === 1000 || i === n - 1) {
        sends.push(producer.send({ messages: batch.splice(0) }))
        if (sends.length >= 4) await sends.shift()
      }
    }
    await Promise.all(sends)
  } finally {
    await producer.close()
  }
  return perPartition.map(keys => keys.length === 0 ? [] : Array.from({ length: 10 }, (_, k) => keys[Math.max(0, Math.ceil(keys.length * (k + 1) / 10) - 1)]!))
}

/**
 * Polls the checkpoints until every partition's last one is readable, `deadlineMs` passes, or
 * nothing moved for `stallMs`. Commands/s is measured from the start to the last progress seen.
 */
async function watchDrain (ctx: BenchContext, checkpoints: Key[][], n: number, deadlineMs: number, stallMs: number): Promise<{ fraction: number, seconds: number, perSec: number, timeline: number[], stalled: boolean }> {
  const all = checkpoints.flat()
  const total = all.length
  const t0 = performance.now()
  const seen = new Set<string>()
  let lastProgress = t0
  const timeline: number[] = []
  let lastApplied = 0
  let nextSecond = t0 + 1000
  let stalled = false
  // Fraction of the backlog done: per partition, the furthest checkpoint readable (order holds within one).
  const fraction = () => checkpoints.reduce((acc, cps) => {
    let k = 0
    for (let j = cps.length - 1; j >= 0; j--) if (seen.has(cps[j]!.reservationId)) { k = j + 1; break }
    return acc + (cps.length ? k / cps.length : 1) / checkpoints.length
  }, 0)
  while (seen.size < total) {
    const pending = all.filter(k => !seen.has(k.reservationId))
    const before = seen.size
    for (const id of await readable(ctx.db, ctx.table, pending)) seen.add(id)
    const now = performance.now()
    if (seen.size > before) lastProgress = now
    while (now >= nextSecond) {
      const applied = fraction() * n
      timeline.push(Math.max(0, applied - lastApplied))
      lastApplied = applied
      nextSecond += 1000
    }
    if (now - t0 > deadlineMs) break
    if (now - lastProgress > stallMs) { stalled = true; break }
    await Bun.sleep(250)
  }
  const f = fraction()
  const seconds = ((seen.size === total ? lastProgress : lastProgress) - t0) / 1000
  return { fraction: f, seconds, perSec: seconds > 0 ? (f * n) / seconds : 0, timeline, stalled }
}

/** The bare loop: reservation-shaped items (from the fold) in BatchWriteItem of 25, 8 in flight. */
async function bareBatchWrite (ctx: BenchContext, items: number): Promise<LoadRun> {
  const users = Math.ceil(items / 11)
  const base = 50_000_000 + Math.floor(Math.random() * 1_000_000) * 100
  const all = Array.from({ length: users }, (_, i) => seedItems(base + i)).flat().slice(0, items) as unknown as Record<string, unknown>[]
  const batches = Math.ceil(all.length / 25)
  const stopCpu = cpuMeter()
  const t0 = performance.now()
  const timeline: number[] = []
  let next = 0
  let done = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < batches) {
      const b = next++
      await batchWrite(ctx.db, ctx.table, all.slice(b * 25, b * 25 + 25))
      done += Math.min(25, all.length - b * 25)
      const sec = Math.floor((performance.now() - t0) / 1000)
      timeline[sec] = (timeline[sec] ?? 0) + Math.min(25, all.length - b * 25)
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  return { label: 'bare BatchWriteItem ×8', model: 'closed', url: 'dynalite', connections: 8, durationS: Math.round(seconds), requests: done, rps: done / seconds,
    latency: { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN }, errors: 0, timeouts: 0, non2xx: 0, statusCodes: {}, timeline: Array.from(timeline, x => x ?? 0), cpu: stopCpu() }
}
