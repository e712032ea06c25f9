/**
 * Helpers of the updater's integration tests (imported by *.integration.test.ts only): topics,
 * settings, a workload generator, the expected table (the fold over the commands, run on
 * test-fixtures' FakeTable), table dumps, updater processes, and a private dynalite.
 */
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { loadEnv } from '../shared/config/env.ts'
import type { FoldCommand } from '../shared/domain/fold.ts'
import type { FoldItem } from '../shared/domain/items.ts'
import { FakeTable } from '../shared/domain/test-fixtures.ts'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { ensureTable } from '../shared/dynamo/table.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { deadLetterTopic, ensureTopics } from '../shared/kafka/topics.ts'
import { encodeCommand, type Command, type CommandOf, type CommandType } from '../shared/schemas/command.ts'
import { brokers, freePort, stackEnv, uniq, waitFor } from '../test/support/stack.ts'
import { testLogger } from '../test/support/logger.ts'
import { dynamoAnswers } from '../infra/dynalite/service.ts'
import { UpdaterSettings } from './config.ts'

export const repo = join(import.meta.dir, '..')

export interface TestTopics { commands: string, status: string, dlq: string }

export async function makeTopics (prefix: string, partitions = 12): Promise<TestTopics> {
  const base = uniq(prefix)
  const t = { commands: `${base}-cmd`, status: `${base}-status`, dlq: deadLetterTopic(`${base}-cmd`, 'updater') }
  await ensureTopics(brokers(), [
    { name: t.commands, partitions, replicationFactor: 1, configs: {} },
    { name: t.status, partitions: 4, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    { name: t.dlq, partitions: 1, replicationFactor: 1, configs: {} }
  ], testLogger)
  return t
}

export async function makeTable (prefix: string, endpoint = stackEnv().DYNAMODB_ENDPOINT!): Promise<string> {
  const table = uniq(prefix)
  const db = createDynamoClient({ DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'local' })
  try { await ensureTable(db, table, testLogger) } finally { db.destroy() }
  return table
}

/** Environment of an updater for a test: the stack's, the test's topics and table, fast timings. */
export function updaterEnv (topics: TestTopics, table: string, extra: Record<string, string> = {}): Record<string, string> {
  const env = stackEnv()
  return {
    KAFKA_BROKERS: env.KAFKA_BROKERS!,
    DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT!,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    TOPIC_COMMANDS: topics.commands,
    TOPIC_STATUS: topics.status,
    TABLE_NAME: table,
    UPDATER_GROUP_ID: `${topics.commands}-updater`,
    UPDATER_LEASE_TTL_MS: '3000',
    UPDATER_STALL_RETRY_MS: '300',
    UPDATER_BATCH_DEADLINE_MS: '10000',
    UPDATER_FINISHER_INTERVAL_MS: '0',
    UPDATER_FETCH_MAX_WAIT_MS: '100',
    LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'warn',
    PORT: String(freePort()),
    ...extra
  }
}

export const settingsOf = (env: Record<string, string>) => loadEnv(UpdaterSettings, env)

/** A command as the API builds it (valid by schema, maybe impossible for the fold). */
export function command<K extends CommandType> (type: K, userId: string, id: string, payload: CommandOf<K>['payload'], acceptedAt = Date.now()): Command {
  return { v: 1, id, type, userId, actorId: userId, acceptedAt, payload } as Command
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * A deterministic mixed workload: per user, trips and reservations created, patched, moved,
 * rescheduled and cancelled by the agency, removed; shares granted and revoked; settings; some
 * commands impossible on purpose (update of an unknown reservation).
 */
export function workload (users: number, total: number, seed = 1): Command[] {
  let x = seed
  const rnd = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x7fffffff }
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!
  const nextId = createIdGenerator({ now: () => Date.UTC(2030, 0, 1), random: b => { for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256); return b } })
  const state = Array.from({ length: users }, (_, i) => ({ userId: `u${seed}-${i}`, trips: [] as string[], reservations: [] as string[] }))
  const out: Command[] = []
  const base = Date.UTC(2031, 2, 1)
  for (let n = 0; n < total; n++) {
    const u = state[n % users]!
    const at = 1_900_000_000_000 + n
    const r = rnd()
    const start = base + Math.floor(rnd() * 60) * 86_400_000
    if (u.trips.length === 0 || r < 0.08) {
      const tripId = nextId()
      u.trips.push(tripId)
      out.push(command('trip.create', u.userId, nextId(), { tripId, name: `Trip ${n}` }, at))
    } else if (u.reservations.length === 0 || r < 0.4) {
      const reservationId = nextId()
      u.reservations.push(reservationId)
      out.push(command('reservation.create', u.userId, nextId(), {
        reservationId, type: pick(['flight', 'hotel', 'car', 'rail', 'other'] as const), title: `R ${n}`,
        startsAt: iso(start), endsAt: iso(start + 3_600_000 * (1 + Math.floor(rnd() * 48))),
        places: [{ name: pick(['Paris', 'Lyon', 'Oslo']) }], agencyId: 'acme',
        ...(rnd() < 0.6 ? { tripId: pick(u.trips) } : {})
      }, at))
    } else if (r < 0.55) {
      out.push(command('reservation.update', u.userId, nextId(), { reservationId: pick(u.reservations), patch: rnd() < 0.5 ? { title: `T ${n}` } : { tripId: rnd() < 0.3 ? null : pick(u.trips) } }, at))
    } else if (r < 0.65) {
      const change = pick(['cancelled', 'rescheduled', 'updated'] as const)
      out.push(command('reservation.agency-update', u.userId, nextId(), {
        agencyId: 'acme', reservationId: pick(u.reservations), change,
        ...(change === 'rescheduled' ? { startsAt: iso(start), endsAt: iso(start + 7_200_000) } : {}),
        ...(change === 'updated' ? { details: { title: `A ${n}` } } : {})
      }, at))
    } else if (r < 0.7) {
      out.push(command('reservation.remove', u.userId, nextId(), { reservationId: pick(u.reservations) }, at))
    } else if (r < 0.76) {
      out.push(command('trip.update', u.userId, nextId(), { tripId: pick(u.trips), patch: { name: `Renamed ${n}` } }, at))
    } else if (r < 0.8) {
      out.push(command('trip.remove', u.userId, nextId(), { tripId: pick(u.trips) }, at))
    } else if (r < 0.87) {
      out.push(command('trip.share.put', u.userId, nextId(), { tripId: pick(u.trips), granteeId: pick(state).userId, role: pick(['full', 'dates-and-places'] as const) }, at))
    } else if (r < 0.9) {
      out.push(command('trip.share.remove', u.userId, nextId(), { tripId: pick(u.trips), granteeId: pick(state).userId }, at))
    } else if (r < 0.95) {
      out.push(command('settings.put', u.userId, nextId(), { language: pick(['en', 'fr']) } as never, at))
    } else {
      // Impossible on purpose: the fold rejects it (dead letter).
      out.push(command('reservation.update', u.userId, nextId(), { reservationId: nextId(), patch: { title: 'ghost' } }, at))
    }
  }
  return out
}

/** Produces the commands keyed by user, in order; returns each with the offset Kafka gave it. */
export async function produce (topic: string, commands: readonly Command[]): Promise<Array<{ partition: number, offset: number, command: Command }>> {
  const p = new BatchingProducer({ brokers: brokers(), clientId: 'test-commands', lingerMs: 2, maxBatchMessages: 500, deadlineMs: 30_000, maxQueued: 100_000 })
  await p.connect([topic])
  try {
    const acks = await Promise.all(commands.map(c => p.send(topic, c.userId, encodeCommand(c))))
    return acks.map((a, i) => ({ partition: a.partition, offset: Number(a.offset), command: commands[i]! }))
  } finally {
    await p.close()
  }
}

/** What the table must hold: each user's commands, in offset order, folded on a FakeTable. */
export function expectedTable (produced: ReadonlyArray<{ offset: number, command: Command }>): Map<string, FoldItem> {
  const byUser = new Map<string, FoldCommand[]>()
  for (const p of produced) {
    const list = byUser.get(p.command.userId) ?? []
    list.push({ offset: p.offset, command: p.command })
    byUser.set(p.command.userId, list)
  }
  const out = new Map<string, FoldItem>()
  for (const [userId, list] of byUser) {
    list.sort((a, b) => a.offset - b.offset)
    const t = new FakeTable()
    t.run(list, userId)
    for (const [sk, item] of t.items) out.set(`${item.pk}|${sk}`, item)
  }
  return out
}

/** Every user item of the table (tests only scan). */
export async function dumpTable (db: DynamoDBDocumentClient, table: string): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>()
  let start: Record<string, unknown> | undefined
  do {
    const res = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }))
    for (const item of res.Items ?? []) if (String(item.pk).startsWith('U#')) out.set(`${item.pk}|${item.sk}`, item)
    start = res.LastEvaluatedKey
  } while (start)
  return out
}

/**
 * Differences between the table and the expected fold, ignoring what depends on where batches
 * were cut (the updater cuts them by time and size; the expected fold runs each user's commands
 * as one batch):
 * - `lastEvent`: its `previous` and `change` are the net change of one batch.
 */
export function tableDiff (expected: Map<string, FoldItem>, actual: Map<string, Record<string, unknown>>): string[] {
  const strip = (i: Record<string, unknown>) => {
    const { lastEvent: _, ...rest } = i
    return rest
  }
  const diffs: string[] = []
  for (const [k, item] of expected) {
    const a = actual.get(k)
    if (!a) { diffs.push(`missing ${k}`); continue }
    if (!Bun.deepEquals(strip(a), strip(item as unknown as Record<string, unknown>))) diffs.push(`differs ${k}: table ${JSON.stringify(strip(a))} expected ${JSON.stringify(strip(item as unknown as Record<string, unknown>))}`)
  }
  for (const k of actual.keys()) if (!expected.has(k)) diffs.push(`unexpected ${k}`)
  return diffs
}

export interface UpdaterProcess { proc: ReturnType<typeof Bun.spawn>, port: number, logs: () => string, stop: (signal?: NodeJS.Signals | number) => Promise<number> }

/** `bun updater/main.ts` with `env`; logs kept in memory. */
export function spawnUpdater (env: Record<string, string>): UpdaterProcess {
  const port = Number(env.PORT ?? freePort())
  const proc = Bun.spawn([process.execPath, join(repo, 'updater', 'main.ts')], {
    cwd: repo, env: { ...process.env, ...env, PORT: String(port) }, stdout: 'pipe', stderr: 'pipe'
  })
  let text = ''
  const pump = async (s: ReadableStream<Uint8Array>) => { for await (const c of s) { text += new TextDecoder().decode(c); if (process.env.TEST_LOGS) process.stderr.write(c) } }
  void pump(proc.stdout as ReadableStream<Uint8Array>)
  void pump(proc.stderr as ReadableStream<Uint8Array>)
  return {
    proc, port, logs: () => text,
    stop: async (signal = 'SIGTERM') => { proc.kill(signal); return await proc.exited }
  }
}

export async function readyz (port: number): Promise<{ status: number, body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })
  return { status: res.status, body: await res.json() }
}

/** Committed offsets of the updaters' group, per partition. */
export async function committedOffsets (group: string, topic: string, partitions: number): Promise<Map<number, number>> {
  const { Admin } = await import('@platformatic/kafka')
  const admin = new Admin({ clientId: 'test-offsets', bootstrapBrokers: brokers(), timeout: 5000 })
  try {
    const [g] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: Array.from({ length: partitions }, (_, i) => i) }] }] })
    const out = new Map<number, number>()
    for (const t of g?.topics ?? []) for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, Number(p.committedOffset))
    return out
  } finally {
    await admin.close()
  }
}

/** A private dynalite on its own port and folder (never the shared one), stoppable and restartable. */
export class PrivateDynalite {
  readonly port = freePort()
  readonly dir = mkdtempSync(join(tmpdir(), 'updater-dynalite-'))
  private proc: ReturnType<typeof Bun.spawn> | undefined
  get endpoint (): string { return `http://127.0.0.1:${this.port}` }
  async start (): Promise<void> {
    this.proc = Bun.spawn([process.execPath, join(repo, 'infra', 'dynalite', 'server.ts'), String(this.port), this.dir], { stdout: 'ignore', stderr: 'ignore' })
    await waitFor('private dynalite', () => dynamoAnswers(this.endpoint), 15_000)
  }
  async stop (): Promise<void> {
    if (!this.proc) return
    this.proc.kill('SIGKILL')
    await this.proc.exited
    this.proc = undefined
  }
  async destroy (): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export const testDb = (endpoint = stackEnv().DYNAMODB_ENDPOINT!) => createDynamoClient({ DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'local' })
