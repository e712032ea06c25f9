import type { Command } from '../schemas/command.ts'
import type { ReservationStatus } from '../schemas/status-event.ts'
import type { FoldItem } from './items.ts'
import { isReservation, isTrip } from './items.ts'
import {
  LIVE_RESERVATIONS_PREFIX,
  LIVE_TRIPS_PREFIX,
  reservationSk,
  settingsSk,
  shareSk,
  tripReservationsLsiPrefix,
  tripSk,
  unassignedTripId,
  userPk,
} from './keys.ts'

/**
 * What the updater must read before folding a user's commands. Everything is read strongly
 * consistent, since the fold must see the previous batch's writes: items by key (BatchGetItem),
 * and a user's live reservations and trips through the `live` local index (an LSI allows
 * consistent Queries; a GSI does not). Nothing is kept in a map on an item (DESIGN rule 8).
 *
 * - `item`: the item `U#<userId>` + `sk`, by key.
 * - `tripReservations`: the trip's live reservations as the index lists them (LiveRow: key,
 *   times, status, lastOffset), so the fold derives the trip's span and counts it against
 *   LIMITS.reservationsPerTrip without reading every reservation.
 * - `tripShares`: each share of the trip by key, as listed in the trip item's `shares`.
 * - `tripMembers`: the trip's reservations by key, from its index rows: all of them
 *   (trip.remove moves each to Unassigned) or the active ones (trip.finish finishes those ended).
 * - `tripOfReservation`: the trip the stored reservation sits in, and its rows (a later round),
 *   for commands that may change the reservation's times, status or trip; others need no trip
 *   (the fold keeps the stored span of a trip whose rows it was not given).
 * - `activeReservations` / `liveTrips`: the user's counts, for the limits of a create. A count
 *   reads every row it counts anyway (a Query reads what it counts), so both come from one
 *   Query of the user's whole `live` index, which also gives every trip's rows (one request
 *   instead of two counts and a Query per trip; the read units of the active count alone).
 *
 * Every index row whose `lastOffset` is at or past the batch's first offset is also read by key:
 * an earlier attempt of this batch wrote it (moved it out of a removed trip, finished it), and the
 * fold needs it in hand to re-emit its event and to count it as it stood at each command.
 */
export type Load =
  | { kind: 'item'; sk: string }
  | { kind: 'tripReservations'; tripId: string }
  | { kind: 'tripShares'; tripId: string }
  | { kind: 'tripMembers'; tripId: string; which: 'all' | 'active' }
  | { kind: 'tripOfReservation'; reservationId: string }
  | { kind: 'activeReservations' }
  | { kind: 'liveTrips' }

const item = (sk: string): Load => ({ kind: 'item', sk })
/** A trip whose reservations the command may change: its item and its index rows. */
const tripWithRows = (tripId: string): Load[] => [item(tripSk(tripId)), { kind: 'tripReservations', tripId }]

export function loadsFor(command: Command): Load[] {
  const unassigned = unassignedTripId(command.userId)
  switch (command.type) {
    case 'reservation.create': {
      const p = command.payload
      return [item(reservationSk(p.reservationId)), ...tripWithRows(p.tripId ?? unassigned), { kind: 'activeReservations' }]
    }
    case 'reservation.update': {
      const p = command.payload
      const loads: Load[] = [item(reservationSk(p.reservationId))]
      // Only times and the trip move a reservation in its trip's span; a title or notes patch needs no trip.
      if (p.patch.startsAt !== undefined || p.patch.endsAt !== undefined || p.patch.tripId !== undefined)
        loads.push({ kind: 'tripOfReservation', reservationId: p.reservationId })
      if (p.patch.tripId === null) loads.push(...tripWithRows(unassigned))
      else if (p.patch.tripId !== undefined) loads.push(...tripWithRows(p.patch.tripId))
      return loads
    }
    case 'reservation.remove': {
      const id = command.payload.reservationId
      return [item(reservationSk(id)), { kind: 'tripOfReservation', reservationId: id }]
    }
    case 'reservation.agency-update': {
      const id = command.payload.reservationId
      // 'updated' carries details only (title, places, notes): the trip's span cannot change.
      if (command.payload.change === 'updated') return [item(reservationSk(id))]
      return [item(reservationSk(id)), { kind: 'tripOfReservation', reservationId: id }]
    }
    case 'trip.create':
      // The Unassigned trip's key tells the fold whether the index count includes it.
      return [item(tripSk(command.payload.tripId)), item(tripSk(unassigned)), { kind: 'liveTrips' }]
    case 'trip.update':
      return [item(tripSk(command.payload.tripId)), { kind: 'tripShares', tripId: command.payload.tripId }]
    case 'trip.finish':
      return [...tripWithRows(command.payload.tripId), { kind: 'tripMembers', tripId: command.payload.tripId, which: 'active' }]
    case 'trip.remove': {
      const tripId = command.payload.tripId
      return [
        ...tripWithRows(tripId),
        { kind: 'tripMembers', tripId, which: 'all' },
        { kind: 'tripShares', tripId },
        ...tripWithRows(unassigned),
      ]
    }
    case 'trip.share.put':
    case 'trip.share.remove':
      return [item(tripSk(command.payload.tripId)), item(shareSk(command.payload.tripId, command.payload.granteeId))]
    case 'settings.put':
      return [item(settingsSk())]
  }
}

/** Loads of a whole batch, deduplicated; `since` is the batch's first offset. */
export interface LoadPlan {
  keys: string[]
  tripReservations: string[]
  tripShares: string[]
  /** Trips whose every reservation is read by key. */
  allMembers: string[]
  /** Trips whose active reservations are read by key. */
  activeMembers: string[]
  reservationTrips: string[]
  activeReservations: boolean
  liveTrips: boolean
  since: number
}

export function planLoads(commands: ReadonlyArray<{ offset: number; command: Command }>): LoadPlan {
  const sets = {
    keys: new Set<string>(),
    tripReservations: new Set<string>(),
    tripShares: new Set<string>(),
    allMembers: new Set<string>(),
    activeMembers: new Set<string>(),
    reservationTrips: new Set<string>(),
  }
  let activeReservations = false
  let liveTrips = false
  let since = Number.POSITIVE_INFINITY
  for (const { offset, command } of commands) {
    since = Math.min(since, offset)
    for (const load of loadsFor(command)) {
      if (load.kind === 'item') sets.keys.add(load.sk)
      else if (load.kind === 'tripReservations') sets.tripReservations.add(load.tripId)
      else if (load.kind === 'tripShares') sets.tripShares.add(load.tripId)
      else if (load.kind === 'tripMembers') (load.which === 'all' ? sets.allMembers : sets.activeMembers).add(load.tripId)
      else if (load.kind === 'tripOfReservation') sets.reservationTrips.add(load.reservationId)
      else if (load.kind === 'activeReservations') activeReservations = true
      else liveTrips = true
    }
  }
  return {
    keys: [...sets.keys],
    tripReservations: [...sets.tripReservations],
    tripShares: [...sets.tripShares],
    allMembers: [...sets.allMembers],
    activeMembers: [...sets.activeMembers],
    reservationTrips: [...sets.reservationTrips],
    activeReservations,
    liveTrips,
    since: commands.length ? since : 0,
  }
}

/** A reservation as the `live` index lists it (projection LIVE_PROJECTION). */
export interface LiveRow {
  sk: string
  startsAt: string
  endsAt: string
  status: ReservationStatus
  lastOffset: number
}

/**
 * What the index said, beside the items: the rows of each trip queried, the counts asked for,
 * and every key read by key (found or not: an absent key is known not to exist).
 */
export interface LiveIndex {
  requested: Set<string>
  tripReservations: Map<string, LiveRow[]>
  /** Every live reservation of the user was read: a trip not in `tripReservations` has none. */
  allReservations?: boolean
  /** The user's reservations with status active, as stored. */
  activeReservations?: number
  /** The user's live trips as stored, the Unassigned trip included when it exists. */
  liveTrips?: number
}

export const emptyLiveIndex = (): LiveIndex => ({ requested: new Set(), tripReservations: new Map() })

/** The index rows of a trip's live reservations, or undefined if they were not read. */
export function tripRows(index: LiveIndex, tripId: string): readonly LiveRow[] | undefined {
  return index.tripReservations.get(tripId) ?? (index.allReservations ? [] : undefined)
}

/** The trip id in a reservation's `lsi1sk` (`R#<tripId>#<id>`; ids hold no `#`). */
const tripIdOfLsiSk = (sk: string) => sk.slice(LIVE_RESERVATIONS_PREFIX.length, sk.lastIndexOf('#'))

/** Fills `index` from the user's whole `live` index: each trip's rows and both counts. */
export function indexAllLive(index: LiveIndex, rows: ReadonlyArray<Record<string, unknown>>) {
  index.allReservations = true
  index.activeReservations = 0
  index.liveTrips = 0
  for (const item of rows) {
    const sk = String(item.lsi1sk)
    if (sk.startsWith(LIVE_TRIPS_PREFIX)) index.liveTrips++
    if (!sk.startsWith(LIVE_RESERVATIONS_PREFIX)) continue
    const row = rowOf(item)
    const tripId = tripIdOfLsiSk(String(item.lsi1sk))
    const list = index.tripReservations.get(tripId) ?? []
    list.push(row)
    index.tripReservations.set(tripId, list)
    if (row.status === 'active') index.activeReservations++
  }
}

/**
 * The next round of reads: keys not yet read and trips whose rows are not yet queried, given
 * what has been read. Empty once everything the plan needs is in (at most three rounds: the
 * plan; what the first items and rows name; the rows of trips found in the second).
 */
export function nextLoads(plan: LoadPlan, items: ReadonlyMap<string, FoldItem>, index: LiveIndex): { keys: string[]; tripReservations: string[] } {
  const keys = new Set<string>()
  const trips = new Set<string>()
  const key = (sk: string) => {
    if (!index.requested.has(sk)) keys.add(sk)
  }
  const rows = (tripId: string) => {
    if (!tripRows(index, tripId)) trips.add(tripId)
  }
  plan.keys.forEach(key)
  plan.tripReservations.forEach(rows)
  for (const tripId of plan.tripShares) {
    const trip = items.get(tripSk(tripId))
    if (isTrip(trip)) for (const grantee of Object.keys(trip.shares)) key(shareSk(tripId, grantee))
  }
  for (const id of plan.reservationTrips) {
    const reservation = items.get(reservationSk(id))
    if (!isReservation(reservation)) continue
    key(tripSk(reservation.tripId))
    rows(reservation.tripId)
  }
  const all = new Set(plan.allMembers)
  const active = new Set(plan.activeMembers)
  for (const [tripId, list] of index.tripReservations)
    for (const row of list) if (all.has(tripId) || (active.has(tripId) && row.status === 'active') || row.lastOffset >= plan.since) key(row.sk)
  return { keys: [...keys], tripReservations: [...trips] }
}

/** What the fold reads of a table for one user's commands, whatever the table (the updater's DynamoIo, tests). */
export interface LoadIo {
  /** Items by key, consistent; absent keys are missing from the result. */
  getAll(keys: ReadonlyArray<{ pk: string; sk: string }>): Promise<Array<Record<string, unknown>>>
  /** Rows of the `live` index under `pk` whose sort key starts with `prefix` (all of them for ''), consistent. */
  queryLive(pk: string, prefix: string): Promise<Array<Record<string, unknown>>>
  /** How many such rows (with `status`, if given), consistent. */
  countLive(pk: string, prefix: string, status?: string): Promise<number>
}

export interface UserLoad {
  userId: string
  commands: ReadonlyArray<{ offset: number; command: Command }>
  items: Map<string, FoldItem>
  index: LiveIndex
}

const rowOf = (item: Record<string, unknown>): LiveRow => ({
  sk: String(item.sk),
  startsAt: String(item.startsAt),
  endsAt: String(item.endsAt),
  status: item.status as ReservationStatus,
  lastOffset: Number(item.lastOffset),
})

/**
 * The load rounds of every user of a batch at once (one BatchGetItem round for all of them, the
 * index Queries in parallel): the counts and the plan, then nextLoads until nothing is left.
 * Fills each user's `items` and `index`.
 */
export async function readLoads(io: LoadIo, users: readonly UserLoad[]): Promise<void> {
  const byPk = new Map(users.map((u) => [userPk(u.userId), u]))
  const plans = new Map(users.map((u) => [u, planLoads(u.commands)]))
  // The counts are read once, beside the first round (started here, awaited with it), with every
  // trip's rows (indexAllLive), so no trip's rows are queried apart.
  const counts: Array<Promise<void>> = []
  for (const u of users) {
    const plan = plans.get(u)!
    if (!plan.activeReservations && !plan.liveTrips) continue
    u.index.allReservations = true
    counts.push(io.queryLive(userPk(u.userId), '').then((rows) => indexAllLive(u.index, rows)))
  }
  for (let round = 0; ; round++) {
    const keys: Array<{ pk: string; sk: string }> = []
    const queries: Array<Promise<void>> = []
    for (const u of users) {
      const next = nextLoads(plans.get(u)!, u.items, u.index)
      const pk = userPk(u.userId)
      for (const sk of next.keys) {
        u.index.requested.add(sk)
        keys.push({ pk, sk })
      }
      for (const tripId of next.tripReservations)
        queries.push(io.queryLive(pk, tripReservationsLsiPrefix(tripId)).then((rows) => { u.index.tripReservations.set(tripId, rows.map(rowOf)) }))
    }
    if (keys.length === 0 && queries.length === 0) {
      if (round === 0) await Promise.all(counts)
      break
    }
    if (round > 5) throw new Error('readLoads: the load rounds do not settle (a bug in nextLoads)')
    // One await for all of the round, so a failure of any is handled (and the round's reads end together).
    const [got] = await Promise.all([keys.length ? io.getAll(keys) : [], ...queries, ...(round === 0 ? counts : [])])
    for (const item of got) byPk.get(String(item.pk))?.items.set(String(item.sk), item as unknown as FoldItem)
  }
}

/** The reads of a table that holds nothing of the user's yet (seeding, benchmarks): what fold needs beside an empty item map. */
export function emptyTableIndex(commands: ReadonlyArray<{ offset: number; command: Command }>): LiveIndex {
  const index: LiveIndex = { ...emptyLiveIndex(), activeReservations: 0, liveTrips: 0 }
  const first = nextLoads(planLoads(commands), new Map(), index)
  for (const sk of first.keys) index.requested.add(sk)
  for (const tripId of first.tripReservations) index.tripReservations.set(tripId, [])
  return index
}
