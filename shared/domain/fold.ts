import type { Command, CommandOf } from '../schemas/command.ts'
import { checkAgencyUpdate } from '../schemas/reservation.ts'
import type { StatusEvent } from '../schemas/status-event.ts'
import { checkTimes, normalizeInstant } from '../schemas/times.ts'
import { deepEqual } from './equal.ts'
import {
  compact,
  deriveTrip,
  HISTORY_FIELDS,
  HISTORY_LIMIT,
  isReservation,
  isSettings,
  isShare,
  isTrip,
  withReservationIndexes,
  withShareIndexes,
  type FoldItem,
  type HistoryEntry,
  type ReservationItem,
  type ShareItem,
  type TripItem,
} from './items.ts'
import { followUpKeys, loadsFor, planLoads } from './loads.ts'
import { isUnassignedTripId, reservationSk, settingsSk, shareSk, tripSk, unassignedTripId, userPk } from './keys.ts'
import { netChange, statusEvent, type EventCause } from './net-change.ts'
import type { RejectCode, Rejection } from './rejections.ts'

/**
 * The updater's fold: one user's loaded items plus that user's commands in
 * offset order in; the items to write, the status events to emit and the
 * commands refused out. Pure and deterministic: every timestamp comes from
 * the commands, so a replay computes the same images.
 *
 * Idempotency is per item, because BatchWriteItem is not atomic and a crash
 * can leave some of a batch's items written and others not:
 * - a command whose target item (reservation, trip, settings) has
 *   `lastOffset >= offset` is a replay: listed in `skipped`, not applied to
 *   that item and not validated against it;
 * - the command's effects on other items (a trip's reservations and shares)
 *   are still applied to each one whose own `lastOffset` is below the
 *   offset, so a half-written batch completes on replay;
 * - a reservation whose stored `lastEvent.seq` is an offset of this batch,
 *   and which gets no newer event, has that event re-emitted unchanged (the
 *   crash may have come between the table write and the produce).
 * Checks that depend on the command alone (share to self, Unassigned trip
 * targeted, agency body rules, wrong user) run before the replay test, so
 * a replay cannot apply what the first run refused.
 *
 * Versions: +1 per command applied to an item. A trip's derived fields
 * (members, span, status, byEndDay keys) follow its reservations without
 * a version bump, so they come out the same however commands are batched.
 */

export interface FoldCommand {
  offset: number
  command: Command
}

export interface FoldResult {
  /** Final full images, one per sort key, only for items that changed. */
  writes: Map<string, FoldItem>
  /** At most one per reservation, ordered by seq then reservation id. */
  events: StatusEvent[]
  rejected: Rejection[]
  /** Offsets whose target item had already applied them. */
  skipped: number[]
}

/** Name of each user's lazily created Unassigned trip. */
export const UNASSIGNED_TRIP_NAME = 'Unassigned'

interface Ctx {
  offset: number
  commandId: string
  at: number
}

class Refused {
  constructor(
    readonly code: RejectCode,
    readonly reason: string,
  ) {}
}

const refuse = (code: RejectCode, reason: string): never => {
  throw new Refused(code, reason)
}

const NOTIFIED_FIELDS = ['status', 'startsAt', 'endsAt', 'title', 'type', 'places'] as const

class UserBatch {
  readonly items: Map<string, FoldItem>
  readonly pk: string
  readonly causes = new Map<string, EventCause>()
  readonly skipped: number[] = []

  constructor(
    readonly userId: string,
    loaded: ReadonlyMap<string, FoldItem>,
    /** Keys the updater was asked to load: absent ones are known not to exist. */
    readonly requested: ReadonlySet<string>,
  ) {
    this.items = new Map(loaded)
    this.pk = userPk(userId)
  }

  get unassignedId() {
    return unassignedTripId(this.userId)
  }

  reservation(id: string) {
    const item = this.items.get(reservationSk(id))
    return isReservation(item) ? item : undefined
  }

  trip(id: string) {
    const item = this.items.get(tripSk(id))
    return isTrip(item) ? item : undefined
  }

  /**
   * Reservations may go into the user's Unassigned trip (made on demand) or
   * a trip of theirs that was live at this offset. "At this offset", since
   * after a half-written batch the trip may already be in a later state
   * (removed further on) while the reservation is replayed from earlier.
   */
  canHold(tripId: string, ctx: Ctx) {
    if (tripId === this.unassignedId) return true
    const trip = this.trip(tripId)
    if (trip === undefined || trip.createdOffset > ctx.offset) return false
    return !trip.deleted || trip.lastOffset > ctx.offset
  }

  replayOf(item: { lastOffset: number } | undefined, ctx: Ctx) {
    if (item === undefined || item.lastOffset < ctx.offset) return false
    this.skipped.push(ctx.offset)
    return true
  }

  /**
   * A create of an item that this very command created: the API re-sent it (an idempotent retry
   * whose first send had landed after all). Skipped, not refused: nothing is wrong.
   */
  resentCreate(item: { createdBy?: string }, ctx: Ctx) {
    if (item.createdBy !== ctx.commandId) return false
    this.skipped.push(ctx.offset)
    return true
  }

  bump<T extends FoldItem>(item: T, ctx: Ctx): T {
    return { ...item, version: item.version + 1, lastOffset: ctx.offset, updatedAt: ctx.at }
  }

  /**
   * Creates the Unassigned trip when a reservation lands in it, but only if
   * its key was among the loads and came back absent: an item merely not
   * loaded must never be overwritten by a fresh one. It counts as existing
   * from the start (offsets and createdAt 0), so its image is the same
   * whichever batch first writes it, even after a half-written batch.
   */
  ensureUnassigned(tripId: string) {
    const sk = tripSk(tripId)
    if (tripId !== this.unassignedId || this.items.has(sk) || !this.requested.has(sk)) return
    const trip: TripItem = {
      pk: this.pk,
      sk: tripSk(tripId),
      entity: 'trip',
      id: tripId,
      ownerId: this.userId,
      name: UNASSIGNED_TRIP_NAME,
      createdOffset: 0,
      unassigned: true,
      status: 'active',
      members: {},
      shares: {},
      version: 1,
      lastOffset: 0,
      createdAt: 0,
      updatedAt: 0,
    }
    this.items.set(trip.sk, deriveTrip(trip))
  }

  /** Applies field changes to a reservation: history, version, indexes, event cause. */
  changeReservation(r: ReservationItem, next: Partial<ReservationItem>, ctx: Ctx) {
    const updated = compact({ ...r, ...next }) as ReservationItem
    const changes: HistoryEntry['changes'] = {}
    for (const field of HISTORY_FIELDS)
      if (!deepEqual(r[field], updated[field])) changes[field] = { from: r[field] ?? null, to: updated[field] ?? null }
    const history = Object.keys(changes).length
      ? [...r.history, { at: ctx.at, offset: ctx.offset, commandId: ctx.commandId, changes }].slice(-HISTORY_LIMIT)
      : r.history
    const final = withReservationIndexes(this.bump({ ...updated, history }, ctx))
    if (NOTIFIED_FIELDS.some((f) => !deepEqual(r[f], final[f])))
      this.causes.set(r.id, { offset: ctx.offset, commandId: ctx.commandId, acceptedAt: ctx.at })
    this.items.set(final.sk, final)
    this.ensureUnassigned(final.tripId)
  }

  /** Live reservations (or shares) of a trip that have not yet seen this command. */
  pending<T extends FoldItem>(guard: (i: FoldItem | undefined) => i is T, tripId: string, ctx: Ctx): T[] {
    const out: T[] = []
    for (const item of this.items.values())
      if (guard(item) && (item as { tripId?: string }).tripId === tripId && !item.deleted && item.lastOffset < ctx.offset) out.push(item)
    return out
  }
}

const times = (startsAt: string, endsAt: string) => {
  const error = checkTimes(startsAt, endsAt)
  if (error) refuse('invalid_times', `${error.field}: ${error.message}`)
  return { startsAt: normalizeInstant(startsAt)!, endsAt: normalizeInstant(endsAt)! }
}

function liveReservation(b: UserBatch, id: string, ctx: Ctx): ReservationItem | undefined {
  const r = b.reservation(id) ?? refuse('reservation_not_found', `reservation ${id} not found`)
  if (b.replayOf(r, ctx)) return undefined
  if (r.deleted) refuse('reservation_removed', `reservation ${id} was removed`)
  return r
}

function applyReservationCreate(b: UserBatch, { payload: p }: CommandOf<'reservation.create'>, ctx: Ctx) {
  const existing = b.reservation(p.reservationId)
  if (existing) {
    if (b.replayOf(existing, ctx) || b.resentCreate(existing, ctx)) return
    refuse('reservation_exists', `reservation ${p.reservationId} exists`)
  }
  const span = times(p.startsAt, p.endsAt)
  const tripId = p.tripId ?? b.unassignedId
  if (!b.canHold(tripId, ctx)) refuse('trip_not_found', `trip ${tripId} not found`)
  const r: ReservationItem = compact({
    pk: b.pk,
    sk: reservationSk(p.reservationId),
    entity: 'reservation' as const,
    id: p.reservationId,
    ownerId: b.userId,
    tripId,
    type: p.type,
    title: p.title,
    ...span,
    places: p.places,
    trackingRef: p.trackingRef,
    agencyId: p.agencyId,
    createdBy: ctx.commandId,
    price: p.price,
    notes: p.notes,
    status: 'active' as const,
    history: [],
    version: 1,
    lastOffset: ctx.offset,
    createdAt: ctx.at,
    updatedAt: ctx.at,
  })
  b.items.set(r.sk, withReservationIndexes(r))
  b.causes.set(r.id, { offset: ctx.offset, commandId: ctx.commandId, acceptedAt: ctx.at })
  b.ensureUnassigned(tripId)
}

function applyReservationUpdate(b: UserBatch, { payload: p }: CommandOf<'reservation.update'>, ctx: Ctx) {
  const r = liveReservation(b, p.reservationId, ctx)
  if (!r) return
  const patch = p.patch
  const span = times(patch.startsAt ?? r.startsAt, patch.endsAt ?? r.endsAt)
  const tripId = patch.tripId === undefined ? r.tripId : (patch.tripId ?? b.unassignedId)
  if (tripId !== r.tripId && !b.canHold(tripId, ctx)) refuse('trip_not_found', `trip ${tripId} not found`)
  // `null` clears an optional field: undefined here, dropped by compact.
  const orKeep = <K extends 'trackingRef' | 'agencyId' | 'price' | 'notes'>(k: K) =>
    patch[k] === undefined ? r[k] : (patch[k] ?? undefined)
  b.changeReservation(
    r,
    {
      type: patch.type ?? r.type,
      title: patch.title ?? r.title,
      ...span,
      tripId,
      places: patch.places ?? r.places,
      trackingRef: orKeep('trackingRef') as string | undefined,
      agencyId: orKeep('agencyId') as string | undefined,
      price: orKeep('price') as ReservationItem['price'],
      notes: orKeep('notes') as string | undefined,
    },
    ctx,
  )
}

function applyReservationRemove(b: UserBatch, { payload: p }: CommandOf<'reservation.remove'>, ctx: Ctx) {
  const r = liveReservation(b, p.reservationId, ctx)
  if (r) b.changeReservation(r, { status: 'removed', deleted: true }, ctx)
}

function applyAgencyUpdate(b: UserBatch, { payload: p }: CommandOf<'reservation.agency-update'>, ctx: Ctx) {
  const bodyError = checkAgencyUpdate(p)
  if (bodyError) refuse('invalid_agency_update', `${bodyError.field}: ${bodyError.message}`)
  const r = liveReservation(b, p.reservationId, ctx)
  if (!r) return
  if (r.agencyId !== p.agencyId) refuse('agency_mismatch', `reservation ${r.id} is not managed by agency ${p.agencyId}`)
  // Agency order, not arrival order: an update that happened at the agency no later than the last
  // one applied (a replayed capture, or one delivered late) changes nothing, emits nothing, and is
  // counted in `skipped`. Commands from before occurredAt existed apply unordered and keep the mark.
  const occurredAt = p.occurredAt === undefined ? undefined : normalizeInstant(p.occurredAt)
  if (occurredAt !== undefined && r.agencyOccurredAt !== undefined && occurredAt <= r.agencyOccurredAt) {
    b.skipped.push(ctx.offset)
    return
  }
  const next: Partial<ReservationItem> = { ...p.details }
  if (occurredAt !== undefined) next.agencyOccurredAt = occurredAt
  if (p.change === 'cancelled') next.status = 'cancelled'
  if (p.change === 'rescheduled') {
    Object.assign(next, times(p.startsAt ?? r.startsAt, p.endsAt ?? r.endsAt))
    // A new itinerary from the agency brings a cancelled or finished reservation back.
    next.status = 'active'
  }
  b.changeReservation(r, next, ctx)
}

function applyTripCreate(b: UserBatch, command: CommandOf<'trip.create'>, ctx: Ctx) {
  const p = command.payload
  const existing = b.trip(p.tripId)
  if (existing) {
    if (b.replayOf(existing, ctx) || b.resentCreate(existing, ctx)) return
    refuse('trip_exists', `trip ${p.tripId} exists`)
  }
  const trip: TripItem = compact({
    pk: b.pk,
    sk: tripSk(p.tripId),
    entity: 'trip' as const,
    id: p.tripId,
    ownerId: b.userId,
    name: p.name,
    notes: p.notes,
    createdOffset: ctx.offset,
    createdBy: ctx.commandId,
    unassigned: false,
    status: 'active' as const,
    members: {},
    shares: {},
    version: 1,
    lastOffset: ctx.offset,
    createdAt: ctx.at,
    updatedAt: ctx.at,
  })
  b.items.set(trip.sk, deriveTrip(trip))
}

/** The trip a trip command targets; undefined on a replay of that trip. */
function ownTrip(b: UserBatch, tripId: string, ctx: Ctx): TripItem | undefined {
  const trip = b.trip(tripId) ?? refuse('trip_not_found', `trip ${tripId} not found`)
  if (b.replayOf(trip, ctx)) return undefined
  if (trip.deleted) refuse('trip_not_found', `trip ${tripId} was removed`)
  return trip
}

const notUnassigned = (tripId: string) => {
  if (isUnassignedTripId(tripId)) refuse('trip_unassigned', 'the Unassigned trip cannot be renamed, removed or shared')
}

function applyTripUpdate(b: UserBatch, { payload: p }: CommandOf<'trip.update'>, ctx: Ctx) {
  notUnassigned(p.tripId)
  const trip = ownTrip(b, p.tripId, ctx)
  if (trip) {
    const notes = p.patch.notes === undefined ? trip.notes : (p.patch.notes ?? undefined)
    b.items.set(trip.sk, compact(b.bump({ ...trip, name: p.patch.name ?? trip.name, notes }, ctx)))
  }
  const name = b.trip(p.tripId)!.name
  if (p.patch.name !== undefined)
    for (const share of b.pending(isShare, p.tripId, ctx)) b.items.set(share.sk, b.bump({ ...share, tripName: name }, ctx))
}

function applyTripRemove(b: UserBatch, { payload: p }: CommandOf<'trip.remove'>, ctx: Ctx) {
  notUnassigned(p.tripId)
  const trip = ownTrip(b, p.tripId, ctx)
  // The tombstone keeps `members` and `shares` as they were: a replay loads
  // them by key and finishes moving what a crash left behind.
  if (trip) b.items.set(trip.sk, b.bump({ ...trip, deleted: true }, ctx))
  for (const r of b.pending(isReservation, p.tripId, ctx)) b.changeReservation(r, { tripId: b.unassignedId }, ctx)
  for (const share of b.pending(isShare, p.tripId, ctx))
    b.items.set(share.sk, withShareIndexes(b.bump({ ...share, deleted: true }, ctx)))
}

function applySharePut(b: UserBatch, { payload: p }: CommandOf<'trip.share.put'>, ctx: Ctx) {
  notUnassigned(p.tripId)
  if (p.granteeId === b.userId) refuse('share_self', 'a trip cannot be shared with its owner')
  const trip = ownTrip(b, p.tripId, ctx)
  if (trip) b.items.set(trip.sk, b.bump({ ...trip, shares: { ...trip.shares, [p.granteeId]: p.role } }, ctx))
  const sk = shareSk(p.tripId, p.granteeId)
  const existing = b.items.get(sk)
  const tripName = b.trip(p.tripId)!.name
  if (isShare(existing)) {
    if (existing.lastOffset >= ctx.offset) return
    b.items.set(sk, withShareIndexes(b.bump({ ...existing, role: p.role, tripName, deleted: false }, ctx)))
    return
  }
  const share: ShareItem = {
    pk: b.pk,
    sk,
    entity: 'share',
    tripId: p.tripId,
    ownerId: b.userId,
    granteeId: p.granteeId,
    role: p.role,
    tripName,
    version: 1,
    lastOffset: ctx.offset,
    createdAt: ctx.at,
    updatedAt: ctx.at,
  }
  b.items.set(sk, withShareIndexes(share))
}

function applyShareRemove(b: UserBatch, { payload: p }: CommandOf<'trip.share.remove'>, ctx: Ctx) {
  notUnassigned(p.tripId)
  const trip = ownTrip(b, p.tripId, ctx)
  if (trip) {
    if (!Object.hasOwn(trip.shares, p.granteeId)) refuse('share_not_found', `trip ${p.tripId} is not shared with ${p.granteeId}`)
    const shares = { ...trip.shares }
    delete shares[p.granteeId]
    b.items.set(trip.sk, b.bump({ ...trip, shares }, ctx))
  }
  const share = b.items.get(shareSk(p.tripId, p.granteeId))
  if (isShare(share) && !share.deleted && share.lastOffset < ctx.offset)
    b.items.set(share.sk, withShareIndexes(b.bump({ ...share, deleted: true }, ctx)))
}

function applyTripFinish(b: UserBatch, { payload: p }: CommandOf<'trip.finish'>, ctx: Ctx) {
  const trip = ownTrip(b, p.tripId, ctx)
  if (trip) b.items.set(trip.sk, b.bump({ ...trip, finishedAt: ctx.at }, ctx))
  const now = new Date(ctx.at).toISOString()
  for (const r of b.pending(isReservation, p.tripId, ctx))
    if (r.status === 'active' && r.endsAt <= now) b.changeReservation(r, { status: 'finished' }, ctx)
}

function applySettingsPut(b: UserBatch, { payload: p }: CommandOf<'settings.put'>, ctx: Ctx) {
  const existing = b.items.get(settingsSk())
  const old = isSettings(existing) ? existing : undefined
  if (b.replayOf(old, ctx)) return
  b.items.set(
    settingsSk(),
    compact({
      pk: b.pk,
      sk: settingsSk(),
      entity: 'settings' as const,
      userId: b.userId,
      webhook: p.webhook,
      language: p.language,
      timeZone: p.timeZone,
      version: (old?.version ?? 0) + 1,
      lastOffset: ctx.offset,
      createdAt: old?.createdAt ?? ctx.at,
      updatedAt: ctx.at,
    }),
  )
}

function apply(b: UserBatch, command: Command, ctx: Ctx) {
  switch (command.type) {
    case 'reservation.create':
      return applyReservationCreate(b, command, ctx)
    case 'reservation.update':
      return applyReservationUpdate(b, command, ctx)
    case 'reservation.remove':
      return applyReservationRemove(b, command, ctx)
    case 'reservation.agency-update':
      return applyAgencyUpdate(b, command, ctx)
    case 'trip.create':
      return applyTripCreate(b, command, ctx)
    case 'trip.update':
      return applyTripUpdate(b, command, ctx)
    case 'trip.remove':
      return applyTripRemove(b, command, ctx)
    case 'trip.share.put':
      return applySharePut(b, command, ctx)
    case 'trip.share.remove':
      return applyShareRemove(b, command, ctx)
    case 'trip.finish':
      return applyTripFinish(b, command, ctx)
    case 'settings.put':
      return applySettingsPut(b, command, ctx)
  }
}

/**
 * Brings every loaded live trip's `members` in line with the reservations
 * in hand and recomputes its derived fields. Trips loaded whole (a `trip`
 * load) also drop members that no longer exist. Removed trips keep their
 * frozen maps.
 */
function syncTrips(b: UserBatch, wholeTrips: ReadonlySet<string>) {
  const reservations = [...b.items.values()].filter(isReservation)
  // After a half-written batch the Unassigned trip may be missing while a
  // reservation written in it is skipped: create it then.
  for (const r of reservations) if (!r.deleted) b.ensureUnassigned(r.tripId)
  for (const item of [...b.items.values()]) {
    if (!isTrip(item)) continue
    if (item.deleted) {
      b.items.set(item.sk, deriveTrip(item))
      continue
    }
    const members = { ...item.members }
    for (const r of reservations) {
      if (r.tripId === item.id && r.status === 'active' && !r.deleted) members[r.id] = { startsAt: r.startsAt, endsAt: r.endsAt }
      else delete members[r.id]
    }
    if (wholeTrips.has(item.id)) for (const id of Object.keys(members)) if (!b.reservation(id)) delete members[id]
    b.items.set(item.sk, deriveTrip({ ...item, members }))
  }
}

export function fold(userId: string, items: ReadonlyMap<string, FoldItem>, commands: readonly FoldCommand[]): FoldResult {
  const plan = planLoads(commands.map((c) => c.command))
  const b = new UserBatch(userId, items, new Set([...plan.keys, ...followUpKeys(plan, items)]))
  const rejected: Rejection[] = []
  const byOffset = new Map<number, Command>()
  const wholeTrips = new Set<string>()

  for (const { offset, command } of commands) {
    byOffset.set(offset, command)
    for (const load of loadsFor(command)) if (load.kind === 'trip') wholeTrips.add(load.tripId)
    const ctx: Ctx = { offset, commandId: command.id, at: command.acceptedAt }
    try {
      if (command.userId !== userId) refuse('wrong_user', `command for user ${command.userId} folded for ${userId}`)
      apply(b, command, ctx)
    } catch (error) {
      if (!(error instanceof Refused)) throw error
      rejected.push({ offset, commandId: command.id, code: error.code, reason: error.reason })
    }
  }

  syncTrips(b, wholeTrips)

  const events: StatusEvent[] = []
  for (const [sk, after] of b.items) {
    if (!isReservation(after)) continue
    const loaded = items.get(sk)
    const before = isReservation(loaded) ? loaded : undefined
    const change = deepEqual(before, after) ? undefined : netChange(before, after)
    if (change) {
      const cmd = byOffset.get(after.lastOffset)
      const cause = b.causes.get(after.id) ?? { offset: after.lastOffset, commandId: cmd?.id ?? after.lastEvent?.commandId ?? '', acceptedAt: after.updatedAt }
      const event = statusEvent(before, after, change, cause)
      b.items.set(sk, { ...after, lastEvent: event })
      events.push(event)
    } else if (after.lastEvent && byOffset.has(after.lastEvent.seq)) {
      // A replay of the batch that produced it: the produce may have been lost.
      events.push(after.lastEvent)
    }
  }
  events.sort((x, y) => x.seq - y.seq || (x.reservationId < y.reservationId ? -1 : x.reservationId > y.reservationId ? 1 : 0))

  const writes = new Map<string, FoldItem>()
  for (const [sk, item] of b.items) if (!deepEqual(item, items.get(sk))) writes.set(sk, item)
  return { writes, events, rejected, skipped: [...new Set(b.skipped)] }
}
