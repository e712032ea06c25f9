import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { signJwt } from '../../api/auth/jwt.ts'
import { reservationSk, userPk } from '../../shared/domain/keys.ts'
import { partitionForKey } from '../../shared/kafka/partitioner.ts'
import type { ProcessGroup } from './processes.ts'
import { reservationBody } from './seed.ts'
import type { StackHandle } from './stack.ts'

/** What every scenario gets: the stack, the seeded users' tokens, and what earlier scenarios found. */
export interface BenchContext {
  quick: boolean
  budgetMs: number
  stack: StackHandle
  apiUrl: string
  db: DynamoDBDocumentClient
  table: string
  partitions: number
  jwtSecret: string
  seededUsers: number
  /** Bearer tokens of the seeded users `bench-u<i>`, by index. */
  tokens: string[]
  procs: ProcessGroup
  /** Run folder (logs of spawned processes, HAProxy config). */
  runDir: string
  runId: string
  progress: (line: string) => void
  found: {
    /** Scenario 1's sustainable step. */
    writeMax?: { rps: number, connections: number }
    /** Whether the updater applies commands at all (probe at start). */
    updaterApplies?: boolean
    readCeilingQps?: number
    /** Scenario 2's sustainable dashboard rate. */
    readMax?: number
  }
}

export const token = (secret: string, userId: string, hours = 6) => {
  const now = Math.floor(Date.now() / 1000)
  return signJwt(secret, { sub: userId, iat: now, exp: now + hours * 3600 })
}

/** Scenario durations: short under --quick. */
export const secs = (ctx: Pick<BenchContext, 'quick'>, quick: number, full: number) => ctx.quick ? quick : full

/** Which of `keys` (user, reservation) are readable now (consistent BatchGetItem, 100 a call). */
export async function readable (db: DynamoDBDocumentClient, table: string, keys: ReadonlyArray<{ userId: string, reservationId: string }>): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < keys.length; i += 100) {
    let req: Array<Record<string, unknown>> = keys.slice(i, i + 100).map(k => ({ pk: userPk(k.userId), sk: reservationSk(k.reservationId) }))
    for (let attempt = 0; req.length > 0 && attempt < 5; attempt++) {
      const out = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: req, ConsistentRead: true, ProjectionExpression: 'pk, sk' } } }))
      for (const it of out.Responses?.[table] ?? []) found.add(String(it.sk).slice(4))
      req = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Array<Record<string, unknown>>
    }
  }
  return found
}

/** One user id per command partition (so probes cover every partition). */
export function userPerPartition (prefix: string, partitions: number): string[] {
  const out: Array<string | undefined> = new Array(partitions)
  let left = partitions
  for (let k = 0; left > 0 && k < 100_000; k++) {
    const u = `${prefix}${k}`
    const p = partitionForKey(u, partitions)
    if (out[p] === undefined) { out[p] = u; left-- }
  }
  return out as string[]
}

/** POSTs a reservation through the API; returns its id and when the 202 arrived (epoch ms). */
export async function postReservation (ctx: BenchContext, userId: string, tok: string, n: number): Promise<{ id: string, at: number } | { error: string }> {
  try {
    const res = await fetch(`${ctx.apiUrl}/v1/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
      body: JSON.stringify(reservationBody(n)),
      signal: AbortSignal.timeout(5000)
    })
    const at = Date.now()
    const body = await res.json().catch(() => ({})) as { id?: string }
    if (res.status !== 202 || !body.id) return { error: `HTTP ${res.status}` }
    return { id: body.id, at }
  } catch (err) {
    return { error: (err as Error).name }
  }
}

/**
 * Writes one reservation per command partition through the API and waits until all are readable:
 * behind a backlog, this is how long the updaters take to catch up. Returns how many became
 * readable within `deadlineMs` and the time taken.
 */
export async function settle (ctx: BenchContext, deadlineMs: number): Promise<{ readable: number, total: number, seconds: number, refused: number }> {
  const t0 = performance.now()
  const users = userPerPartition(`bench-settle-${ctx.runId}-`, ctx.partitions)
  // A probe the API refuses (503 while the system is still recovering from overload) is posted
  // again until the deadline: the system is settled only once it takes writes and applies them.
  const keys: Array<{ userId: string, reservationId: string } | undefined> = users.map(() => undefined)
  let refused = 0
  let seen = new Set<string>()
  while (performance.now() - t0 < deadlineMs) {
    await Promise.all(users.map(async (u, i) => {
      if (keys[i]) return
      const p = await postReservation(ctx, u, token(ctx.jwtSecret, u), i)
      if ('id' in p) keys[i] = { userId: u, reservationId: p.id }
      else refused++
    }))
    const posted = keys.filter(k => k !== undefined)
    seen = await readable(ctx.db, ctx.table, posted)
    if (seen.size === users.length) break
    await Bun.sleep(100)
  }
  return { readable: seen.size, total: users.length, seconds: (performance.now() - t0) / 1000, refused }
}
