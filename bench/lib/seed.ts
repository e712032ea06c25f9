import { BatchWriteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { fold, type FoldCommand } from '../../shared/domain/fold.ts'
import { CROCKFORD, encodeTime } from '../../shared/domain/ids.ts'
import type { FoldItem } from '../../shared/domain/items.ts'
import type { Command } from '../../shared/schemas/command.ts'
import type { ReservationCreateBody } from '../../shared/schemas/reservation.ts'
import { emptyTableIndex } from '../../shared/domain/loads.ts'

/**
 * The read data set: users `bench-u<i>`, each with one trip of 10 reservations, written straight to
 * DynamoDB (BatchWriteItem of 25, several in flight). The item images come from the updater's own
 * fold, applied to an empty partition, so they are exactly what the updater would have written.
 * Ids are deterministic, so a later run finds the same trips; a marker item remembers how many users
 * are seeded and the next run only adds the missing ones.
 */

export const SEED_VERSION = 'v1'
const MARKER = { pk: 'BENCH#seed', sk: SEED_VERSION }
const SEED_TIME = Date.UTC(2030, 0, 1)
export const RESERVATIONS_PER_TRIP = 10

/** A valid id (ULID layout) from a time and a counter: deterministic, no randomness. */
export function deterministicId (ms: number, n: number): string {
  let tail = ''
  let v = n
  for (let i = 0; i < 16; i++) { tail = CROCKFORD[v % 32] + tail; v = Math.floor(v / 32) }
  return encodeTime(ms) + tail
}

export const seedUserId = (i: number) => `bench-u${i}`
export const seedTripId = (i: number) => deterministicId(SEED_TIME, i)
const seedReservationId = (i: number, k: number) => deterministicId(SEED_TIME + 1, i * 100 + k)

/** A realistic create body (the same shape the write scenario posts). */
export function reservationBody (n: number, tripId?: string): ReservationCreateBody {
  const day = 1 + (n % 27)
  const types = ['flight', 'hotel', 'car', 'rail', 'other'] as const
  return {
    type: types[n % types.length]!,
    title: `Reservation ${n}: Paris to Montreal`,
    startsAt: `2031-03-${String(day).padStart(2, '0')}T08:00:00Z`,
    endsAt: `2031-03-${String(day).padStart(2, '0')}T16:30:00Z`,
    places: [{ name: 'Paris CDG', code: 'CDG', lat: 49.0097, lon: 2.5479 }, { name: 'Montreal YUL', code: 'YUL' }],
    trackingRef: `ABC${String(n % 100000).padStart(5, '0')}`,
    price: { amount: 420.5, currency: 'EUR' },
    notes: 'Window seat, vegetarian meal. Check-in opens 24 h before departure.',
    ...(tripId !== undefined && { tripId })
  }
}

/** The items of seeded user i: its trip and 10 reservations, as the fold builds them. */
export function seedItems (i: number): FoldItem[] {
  const userId = seedUserId(i)
  const tripId = seedTripId(i)
  const cmd = (offset: number, c: Omit<Command, 'v' | 'userId' | 'actorId' | 'acceptedAt' | 'id'>): FoldCommand =>
    ({ offset, command: { v: 1, id: deterministicId(SEED_TIME + 2, i * 100 + offset), userId, actorId: userId, acceptedAt: SEED_TIME, ...c } as Command })
  const commands: FoldCommand[] = [cmd(0, { type: 'trip.create', payload: { tripId, name: `Trip of ${userId}` } } as never)]
  for (let k = 0; k < RESERVATIONS_PER_TRIP; k++) {
    commands.push(cmd(k + 1, { type: 'reservation.create', payload: { reservationId: seedReservationId(i, k), ...reservationBody(i * 100 + k, tripId) } } as never))
  }
  const result = fold(userId, new Map(), commands, emptyTableIndex(commands))
  if (result.rejected.length) throw new Error(`seed fold refused: ${JSON.stringify(result.rejected[0])}`)
  return [...result.writes.values()]
}

async function pool (n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++) }))
}

/** BatchWriteItem of up to 25 items, retrying UnprocessedItems with backoff and jitter. */
export async function batchWrite (db: DynamoDBDocumentClient, table: string, items: readonly Record<string, unknown>[]): Promise<void> {
  let requests = items.map(Item => ({ PutRequest: { Item } }))
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 10) throw new Error(`BatchWriteItem: ${requests.length} items still unprocessed after ${attempt} attempts`)
    if (attempt > 0) await Bun.sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2))
    const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }))
    requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests
  }
}

export async function seededUsers (db: DynamoDBDocumentClient, table: string): Promise<number> {
  const out = await db.send(new GetCommand({ TableName: table, Key: MARKER, ConsistentRead: true }))
  return typeof out.Item?.users === 'number' ? out.Item.users : 0
}

/** Seeds users up to `users` (only the missing ones); returns items written and seconds taken. */
export async function seed (db: DynamoDBDocumentClient, table: string, users: number, progress: (done: number, total: number) => void, inFlight = 6): Promise<{ from: number, items: number, seconds: number }> {
  const from = await seededUsers(db, table)
  if (from >= users) return { from, items: 0, seconds: 0 }
  const t0 = performance.now()
  const chunkUsers = 500
  let items = 0
  for (let start = from; start < users; start += chunkUsers) {
    const all = Array.from({ length: Math.min(chunkUsers, users - start) }, (_, j) => seedItems(start + j)).flat()
    const batches = Math.ceil(all.length / 25)
    await pool(batches, inFlight, b => batchWrite(db, table, all.slice(b * 25, b * 25 + 25) as unknown as Record<string, unknown>[]))
    items += all.length
    const done = Math.min(users, start + chunkUsers)
    await db.send(new PutCommand({ TableName: table, Item: { ...MARKER, users: done, at: Date.now() } }))
    progress(done, users)
  }
  return { from, items, seconds: (performance.now() - t0) / 1000 }
}
