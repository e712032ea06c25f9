import { newId } from '../../shared/domain/ids.ts'
import { type ReservationItem } from '../../shared/domain/items.ts'
import { LIMIT_CODES, LIMITS } from '../../shared/domain/limits.ts'
import { isUnassignedTripId, reservationSk, tripSk, unassignedTripId } from '../../shared/domain/keys.ts'
import { projectForRole, roleOf, type ReaderRole } from '../../shared/domain/projection.ts'
import { type ReservationCreateBody, type ReservationPatchBody } from '../../shared/schemas/reservation.ts'
import { checkTimes, type TimeError } from '../../shared/schemas/times.ts'
import { type TripItem } from '../../shared/domain/items.ts'
import { type ReservationItineraryView, type ReservationView } from '../../shared/schemas/views.ts'
import { type Commands } from '../commands.ts'
import { ApiError, forbidden, invalidField, limitReached, notFound } from '../errors.ts'
import { type Created, type Idempotency } from '../idempotency.ts'
import { type Store } from '../store.ts'

const live = (r: { deleted?: boolean, status?: string } | undefined) => r !== undefined && !r.deleted && r.status !== 'removed'

/** A 422 for a time rule, blamed on a field the client sent. */
export function timeError (e: TimeError, sent: { startsAt?: unknown, endsAt?: unknown }): Error {
  const field = e.code === 'ends_before_start' && sent.endsAt === undefined ? 'startsAt' : e.field
  return invalidField(`body.${field}`, e.code, e.code === 'ends_before_start' ? 'endsAt is before startsAt' : e.message)
}

/**
 * A trip a user may put their own reservation in: their Unassigned trip or a live trip they own
 * (a reservation lives in its owner's partition, so never in someone else's trip).
 */
export async function checkOwnTripRef (store: Store, userId: string, tripId: string): Promise<void> {
  if (isUnassignedTripId(tripId)) {
    if (tripId !== unassignedTripId(userId)) throw invalidField('body.tripId', 'unknown_trip', 'no such trip of yours')
    return
  }
  if (!await store.ownTrip(userId, tripId)) throw invalidField('body.tripId', 'unknown_trip', 'no such trip of yours (a trip just created becomes usable once applied)')
}

/** 422 `limit_trip_reservations` if the trip already holds the most live reservations a trip may. */
export async function checkTripRoom (store: Store, userId: string, tripId: string, field: string): Promise<void> {
  const n = await store.countTripReservations(userId, tripId, LIMITS.reservationsPerTrip)
  if (n >= LIMITS.reservationsPerTrip) throw limitReached('reservationsPerTrip', field, `the trip already holds ${n} live reservations`)
}

/** 422 `limit_active_reservations` if the user already has the most active reservations a user may. */
export async function checkActiveRoom (store: Store, userId: string): Promise<void> {
  const n = await store.countActiveReservations(userId, LIMITS.activeReservationsPerUser)
  if (n >= LIMITS.activeReservationsPerUser) throw limitReached('activeReservationsPerUser', 'body', `you already have ${n} active reservations`)
}

const LIMIT_CODE_SET = new Set<string>(Object.values(LIMIT_CODES))

/**
 * Runs the limit checks of a create, except for a retry: a create whose Idempotency-Key is already
 * recorded was checked when it was first asked, and its own reservation may be what now fills the
 * trip; it goes on to Idempotency, which replays it (or refuses a reused key).
 */
export async function checkLimitsOfCreate (store: Store, userId: string, idempotencyKey: string | undefined, checks: Array<Promise<void>>): Promise<void> {
  const outcomes = await Promise.allSettled(checks)
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
  if (!failed) return
  const limit = failed.reason instanceof ApiError && LIMIT_CODE_SET.has(failed.reason.code)
  if (limit && idempotencyKey !== undefined && await store.getIdempotency(userId, idempotencyKey)) return
  throw failed.reason
}

export interface Found { item: ReservationItem, role: ReaderRole, trip?: TripItem }

export class ReservationService {
  constructor (private readonly store: Store, private readonly commands: Commands, private readonly idem: Idempotency) {}

  async create ({ userId, body, idempotencyKey }: { userId: string, body: ReservationCreateBody, idempotencyKey?: string }): Promise<Created> {
    const bad = checkTimes(body.startsAt, body.endsAt)
    if (bad) throw timeError(bad, body)
    if (body.tripId !== undefined) await checkOwnTripRef(this.store, userId, body.tripId)
    await checkLimitsOfCreate(this.store, userId, idempotencyKey, [
      checkTripRoom(this.store, userId, body.tripId ?? unassignedTripId(userId), body.tripId === undefined ? 'body' : 'body.tripId'),
      checkActiveRoom(this.store, userId)
    ])
    const reservationId = newId()
    const command = this.commands.build('reservation.create', userId, userId, { reservationId, ...body })
    return this.idem.create({ userId, key: idempotencyKey, operation: command.type, body, resourceId: reservationId, command })
  }

  /**
   * The reservation as this user may see it: their own (consistent read by key), or one in a trip
   * shared with them (owner from byReservation, role from the owner's trip item). Else 404.
   */
  async find (userId: string, id: string): Promise<Found | undefined> {
    const own = await this.store.get<ReservationItem>(userId, reservationSk(id))
    if (own) return live(own) ? { item: own, role: 'owner' } : undefined
    const r = await this.store.reservationById(id)
    if (!r || r.ownerId === userId) return undefined
    const trip = await this.store.get<TripItem>(r.ownerId, tripSk(r.tripId))
    const role = trip && roleOf(trip, userId)
    return role ? { item: r, role, trip } : undefined
  }

  async get ({ userId, id }: { userId: string, id: string }): Promise<ReservationView | ReservationItineraryView> {
    const found = await this.find(userId, id)
    if (!found) throw notFound('reservation')
    return projectForRole(found.item, found.role)
  }

  /** Only the owner writes; a grantee who can see it gets 403, anyone else 404. */
  async writable (userId: string, id: string): Promise<ReservationItem> {
    const found = await this.find(userId, id)
    if (!found) throw notFound('reservation')
    if (found.role !== 'owner') throw forbidden('a shared trip is read-only for its grantees')
    return found.item
  }

  async update ({ userId, id, patch }: { userId: string, id: string, patch: ReservationPatchBody }): Promise<void> {
    const current = await this.writable(userId, id)
    if (patch.startsAt !== undefined || patch.endsAt !== undefined) {
      const bad = checkTimes(patch.startsAt ?? current.startsAt, patch.endsAt ?? current.endsAt)
      if (bad) throw timeError(bad, patch)
    }
    if (typeof patch.tripId === 'string') await checkOwnTripRef(this.store, userId, patch.tripId)
    // A move to another trip (null: the Unassigned trip) must find room there.
    const target = patch.tripId === undefined ? current.tripId : (patch.tripId ?? unassignedTripId(userId))
    if (target !== current.tripId) await checkTripRoom(this.store, userId, target, 'body.tripId')
    await this.commands.send(this.commands.build('reservation.update', userId, userId, { reservationId: id, patch }))
  }

  async remove ({ userId, id }: { userId: string, id: string }): Promise<void> {
    await this.writable(userId, id)
    await this.commands.send(this.commands.build('reservation.remove', userId, userId, { reservationId: id }))
  }
}
