import type { Command, CommandOf } from '../schemas/command.ts'
import { checkAgencyUpdate } from '../schemas/reservation.ts'
import type { ReservationStatus, StatusEvent } from '../schemas/status-event.ts'
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
  type TripReservationState,
} from './items.ts'
import { tripRows, type LiveIndex } from './loads.ts'
import { isUnassignedTripId, reservationSk, settingsSk, shareSk, tripSk, unassignedTripId, userPk } from './keys.ts'
import { LIMIT_CODES, LIMITS, type LimitCode } from './limits.ts'
import { netChange, rejectedEvent, statusEvent, type EventCause } from './net-change.ts'
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
 *   that item and not validated against it; unless the item was created by a
 *   later command (an earlier attempt wrote it): then it did not exist at
 *   that offset, and the command is refused again as the first run did;
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
 * (span, status, byEndDay keys) follow its reservations without a version
 * bump, so they come out the same however commands are batched. They are
 * derived from the trip's live reservations: the `live` index rows the
 * updater read (LiveIndex) merged with the reservations in hand.
 *
 * Limits (limits.ts) are checked against the state as it stood at each
 * command: the index's rows and counts, corrected by the items in hand
 * (taken back through their history where an earlier attempt of this batch
 * wrote them at a later offset), so a replay decides as the first run did.
 * A command that would break one is a rejection; a reservation command
 * refused so also emits a `rejected` status event the user hears of.
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
    /** For a reservation command refused for a limit: the event that tells the user. */
    readonly event?: StatusEvent,
  ) {}
}

const refuse = (code: RejectCode, reason: string): never => {
  throw new Refused(code, reason)
}

/** Refuses a command for a limit; a reservation command also tells its user (`rejected` event). */
const refuseLimit = (code: LimitCode, reason: string, event?: (rejection: { code: LimitCode; reason: string }) => StatusEvent): never => {
  throw new Refused(code, reason, event?.({ code, reason }))
}

/** Refuses moving `incoming` reservations into a trip that would then hold more than the limit. */
function checkTripRoom(b: UserBatch, tripId: string, incoming: number, ctx: Ctx, event?: (rejection: { code: LimitCode; reason: string }) => StatusEvent) {
  const held = b.tripCount(tripId, ctx)
  if (held + incoming <= LIMITS.reservationsPerTrip) return
  const what = isUnassignedTripId(tripId) ? 'the Unassigned trip' : `trip ${tripId}`
  const more = incoming > 1 ? ` and cannot take ${incoming} more` : ''
  refuseLimit(LIMIT_CODES.reservationsPerTrip, `${what} holds ${held} reservations${more}, at most ${LIMITS.reservationsPerTrip} allowed`, event)
}

const NOTIFIED_FIELDS = ['status', 'startsAt', 'endsAt', 'title', 'type', 'places'] as const

class UserBatch {
  readonly items: Map<string, FoldItem>
  readonly pk: string
  readonly causes = new Map<string, EventCause>()
  readonly skipped: number[] = []

  constructor(
    readonly userId: string,
    /** The items as stored, as loaded. */
    readonly loaded: ReadonlyMap<string, FoldItem>,
    /** The index rows and counts read, and the keys the updater was asked to load (absent ones are known not to exist). */
    readonly index: LiveIndex,
    /** Offset of each command of the batch, by command id. */
    readonly offsetOf: ReadonlyMap<string, number>,
  ) {
    this.items = new Map(loaded)
    this.pk = userPk(userId)
  }

  /**
   * A reservation in hand as it stood just before `ctx.offset` (its trip and status), or
   * undefined if it was not live then. An item that an earlier attempt of this batch wrote at a
   * later offset is taken back through its history; one created by a later command of the batch
   * did not exist yet. (History keeps HISTORY_LIMIT entries: enough for any batch but a flood
   * of changes to one reservation, which then counts as it stands.)
   */
  asOf(r: ReservationItem, ctx: Ctx): { tripId: string; status: ReservationStatus } | undefined {
    if (r.lastOffset < ctx.offset) return r.deleted || r.status === 'removed' ? undefined : { tripId: r.tripId, status: r.status }
    const createdAt = r.createdOffset ?? (r.createdBy === undefined ? undefined : this.offsetOf.get(r.createdBy))
    if (createdAt !== undefined && createdAt >= ctx.offset) return undefined
    let { tripId, status } = r
    for (let i = r.history.length - 1; i >= 0 && r.history[i]!.offset >= ctx.offset; i--) {
      const changes = r.history[i]!.changes
      if (Object.hasOwn(changes, 'tripId')) tripId = changes.tripId!.from as string
      if (Object.hasOwn(changes, 'status')) status = changes.status!.from as ReservationStatus
    }
    return status === 'removed' ? undefined : { tripId, status }
  }

  /** Live reservations of a trip at `ctx.offset`: its index rows not in hand, and those in hand. */
  tripCount(tripId: string, ctx: Ctx) {
    let n = 0
    for (const row of tripRows(this.index, tripId) ?? []) if (!this.items.has(row.sk)) n++
    for (const item of this.items.values()) if (isReservation(item) && this.asOf(item, ctx)?.tripId === tripId) n++
    return n
  }

  /** The user's active reservations at `ctx.offset`: the index count, with the items in hand counted as they stood. */
  activeCount(ctx: Ctx) {
    let n = this.index.activeReservations ?? 0
    for (const [sk, item] of this.items) {
      if (!isReservation(item)) continue
      const stored = this.loaded.get(sk)
      if (isReservation(stored) && !stored.deleted && stored.status === 'active') n--
      if (this.asOf(item, ctx)?.status === 'active') n++
    }
    return n
  }

  /** The user's live trips at `ctx.offset`, the Unassigned trip not counted. */
  tripsCount(ctx: Ctx) {
    let n = this.index.liveTrips ?? 0
    for (const [sk, item] of this.items) {
      if (!isTrip(item)) continue
      const stored = this.loaded.get(sk)
      if (isTrip(stored) && !stored.deleted) n-- // the index counted it (the Unassigned trip too)
      const liveThen = item.createdOffset < ctx.offset && (!item.deleted || item.lastOffset > ctx.offset)
      if (!item.unassigned && liveThen) n++
    }
    return n
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

  /**
   * A reservation created by a later command than `ctx.offset` (an earlier attempt of this batch
   * wrote it): it did not exist at this offset, so a command here is no replay of something
   * applied to it: the first run refused it, and so does the replay.
   */
  createdAfter(r: ReservationItem, ctx: Ctx) {
    const createdAt = r.createdOffset ?? (r.createdBy === undefined ? undefined : this.offsetOf.get(r.createdBy))
    return createdAt !== undefined && createdAt > ctx.offset
  }

  /** Created by another command before this offset: a create here was refused, and is again on replay whatever changed it since. */
  createdBefore(item: { createdOffset?: number; createdBy?: string }, ctx: Ctx) {
    return item.createdOffset !== undefined && item.createdOffset < ctx.offset && item.createdBy !== ctx.commandId
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
    if (tripId !== this.unassignedId || this.items.has(sk) || !this.index.requested.has(sk)) return
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
  const r = b.reservation(id)
  if (r === undefined || b.createdAfter(r, ctx)) return refuse('reservation_not_found', `reservation ${id} not found`)
  if (b.replayOf(r, ctx)) return undefined
  if (r.deleted) refuse('reservation_removed', `reservation ${id} was removed`)
  return r
}

function applyReservationCreate(b: UserBatch, { payload: p }: CommandOf<'reservation.create'>, ctx: Ctx) {
  const existing = b.reservation(p.reservationId)
  // Created by a later command of the batch: this create was refused there, decided again below.
  const later = existing !== undefined && b.createdAfter(existing, ctx)
  if (existing && !later) {
    if (b.createdBefore(existing, ctx)) refuse('reservation_exists', `reservation ${p.reservationId} exists`)
    // A replay still makes the Unassigned trip it landed in, which a crash may have left unwritten.
    if (b.replayOf(existing, ctx) || b.resentCreate(existing, ctx)) return b.ensureUnassigned(p.tripId ?? b.unassignedId)
    refuse('reservation_exists', `reservation ${p.reservationId} exists`)
  }
  const span = times(p.startsAt, p.endsAt)
  const tripId = p.tripId ?? b.unassignedId
  if (!b.canHold(tripId, ctx)) refuse('trip_not_found', `trip ${tripId} not found`)
  // It does not exist: the event says 'removed' and carries what was asked for.
  const current = { status: 'removed' as const, ...span, title: p.title, type: p.type, places: p.places }
  const tell = (rejection: { code: LimitCode; reason: string }) =>
    rejectedEvent({ reservationId: p.reservationId, userId: b.userId, tripId, current }, rejection, ctx)
  checkTripRoom(b, tripId, 1, ctx, tell)
  const active = b.activeCount(ctx)
  if (active >= LIMITS.activeReservationsPerUser)
    refuseLimit(LIMIT_CODES.activeReservationsPerUser, `${active} active reservations, at most ${LIMITS.activeReservationsPerUser} allowed`, tell)
  if (later) {
    b.skipped.push(ctx.offset) // never over the later item (the checks above refuse as the first run did)
    return
  }
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
    createdOffset: ctx.offset,
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
  // A replay still makes the Unassigned trip it moved to, which a crash may have left unwritten.
  if (!r) return p.patch.tripId === undefined ? undefined : b.ensureUnassigned(p.patch.tripId ?? b.unassignedId)
  const patch = p.patch
  const span = times(patch.startsAt ?? r.startsAt, patch.endsAt ?? r.endsAt)
  const tripId = patch.tripId === undefined ? r.tripId : (patch.tripId ?? b.unassignedId)
  if (tripId !== r.tripId && !b.canHold(tripId, ctx)) refuse('trip_not_found', `trip ${tripId} not found`)
  if (tripId !== r.tripId) checkTripRoom(b, tripId, 1, ctx, (rejection) => rejectedEvent({ reservationId: r.id, userId: b.userId, tripId: r.tripId, current: r }, rejection, ctx))
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
    if (b.createdBefore(existing, ctx)) refuse('trip_exists', `trip ${p.tripId} exists`)
    if (b.replayOf(existing, ctx) || b.resentCreate(existing, ctx)) return
    refuse('trip_exists', `trip ${p.tripId} exists`)
  }
  const trips = b.tripsCount(ctx)
  if (trips >= LIMITS.tripsPerUser) refuseLimit(LIMIT_CODES.tripsPerUser, `${trips} trips, at most ${LIMITS.tripsPerUser} allowed`)
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
  const trip = b.trip(tripId)
  // Created by a later command (an earlier attempt of this batch wrote it): not there at this offset.
  if (trip === undefined || trip.createdOffset > ctx.offset) return refuse('trip_not_found', `trip ${tripId} not found`)
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
  // Refused rather than overfilling Unassigned: the user moves or removes some first. A replay
  // (the tombstone written) finishes the moves: the reservations still in the trip are found
  // through the index, and the tombstone keeps `shares` as they were.
  if (trip) checkTripRoom(b, b.unassignedId, b.tripCount(p.tripId, ctx), ctx)
  if (trip) b.items.set(trip.sk, b.bump({ ...trip, deleted: true }, ctx))
  for (const r of b.pending(isReservation, p.tripId, ctx)) b.changeReservation(r, { tripId: b.unassignedId }, ctx)
  for (const share of b.pending(isShare, p.tripId, ctx))
    b.items.set(share.sk, withShareIndexes(b.bump({ ...share, deleted: true }, ctx)))
}

function applySharePut(b: UserBatch, { payload: p }: CommandOf<'trip.share.put'>, ctx: Ctx) {
  notUnassigned(p.tripId)
  if (p.granteeId === b.userId) refuse('share_self', 'a trip cannot be shared with its owner')
  const trip = ownTrip(b, p.tripId, ctx)
  const shares = trip ? Object.keys(trip.shares).length : 0
  if (trip && !Object.hasOwn(trip.shares, p.granteeId) && shares >= LIMITS.sharesPerTrip)
    refuseLimit(LIMIT_CODES.sharesPerTrip, `trip ${p.tripId} is shared with ${shares} users, at most ${LIMITS.sharesPerTrip} allowed`)
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
  // The Unassigned trip counts as existing from the start (ensureUnassigned): made here if absent,
  // so a replay, which finds it made by a later command, decides as the first run did.
  b.ensureUnassigned(p.tripId)
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
 * Recomputes the derived fields of every trip in hand: from its index rows (reservations not in
 * hand) and the reservations in hand, for each trip whose rows were read; a trip whose rows were
 * not read (none of its reservations can have changed) keeps its stored span.
 */
function syncTrips(b: UserBatch) {
  const reservations = [...b.items.values()].filter(isReservation)
  // After a half-written batch the Unassigned trip may be missing while a
  // reservation written in it is skipped: create it then.
  for (const r of reservations) if (!r.deleted) b.ensureUnassigned(r.tripId)
  for (const item of [...b.items.values()]) {
    if (!isTrip(item)) continue
    const rows = tripRows(b.index, item.id)
    if (item.deleted || !rows) {
      b.items.set(item.sk, deriveTrip(item))
      continue
    }
    const live: TripReservationState[] = rows.filter((row) => !b.items.has(row.sk))
    for (const r of reservations) if (r.tripId === item.id && !r.deleted && r.status !== 'removed') live.push(r)
    b.items.set(item.sk, deriveTrip(item, live))
  }
}

/**
 * `items` and `index` are what the updater read for these commands (loads.ts: planLoads, then
 * nextLoads until empty); the fold reads nothing itself.
 */
export function fold(userId: string, items: ReadonlyMap<string, FoldItem>, commands: readonly FoldCommand[], index: LiveIndex): FoldResult {
  const b = new UserBatch(userId, items, index, new Map(commands.map((c) => [c.command.id, c.offset])))
  const rejected: Rejection[] = []
  const rejectedEvents: StatusEvent[] = []
  const byOffset = new Map<number, Command>()

  for (const { offset, command } of commands) {
    byOffset.set(offset, command)
    const ctx: Ctx = { offset, commandId: command.id, at: command.acceptedAt }
    try {
      if (command.userId !== userId) refuse('wrong_user', `command for user ${command.userId} folded for ${userId}`)
      apply(b, command, ctx)
    } catch (error) {
      if (!(error instanceof Refused)) throw error
      rejected.push({ offset, commandId: command.id, code: error.code, reason: error.reason })
      if (error.event) rejectedEvents.push(error.event)
    }
  }

  syncTrips(b)

  const events: StatusEvent[] = [...rejectedEvents]
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
