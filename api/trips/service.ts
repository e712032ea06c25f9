import { type Static } from '@sinclair/typebox'
import { newId } from '../../shared/domain/ids.ts'
import { type TripItem } from '../../shared/domain/items.ts'
import { LIMITS } from '../../shared/domain/limits.ts'
import { isUnassignedTripId, unassignedTripId } from '../../shared/domain/keys.ts'
import { projectForRole, projectTripForRole, roleOf } from '../../shared/domain/projection.ts'
import { type ShareRole, type TripCreateBody, type TripPatchBody } from '../../shared/schemas/trip.ts'
import { type Commands } from '../commands.ts'
import { decodeCursor, encodeCursor } from '../cursor.ts'
import { conflict, forbidden, invalidField, limitReached, notFound } from '../errors.ts'
import { type Created, type Idempotency } from '../idempotency.ts'
import { checkLimitsOfCreate } from '../reservations/service.ts'
import { type Store } from '../store.ts'
import { type TripDashboard, type TripList, type TripSummary } from './model.ts'

export class TripService {
  constructor (private readonly store: Store, private readonly commands: Commands, private readonly idem: Idempotency) {}

  async create ({ userId, body, idempotencyKey }: { userId: string, body: TripCreateBody, idempotencyKey?: string }): Promise<Created> {
    await checkLimitsOfCreate(this.store, userId, idempotencyKey, [this.checkTripCount(userId)])
    const tripId = newId()
    const command = this.commands.build('trip.create', userId, userId, { tripId, ...body })
    return this.idem.create({ userId, key: idempotencyKey, operation: command.type, body, resourceId: tripId, command })
  }

  /** 422 `limit_trips` if the user already has the most live trips a user may (Unassigned not counted). */
  private async checkTripCount (userId: string): Promise<void> {
    const n = await this.store.countTrips(userId, LIMITS.tripsPerUser)
    if (n >= LIMITS.tripsPerUser) throw limitReached('tripsPerUser', 'body', `you already have ${n} trips`)
  }

  /**
   * Owned trips first (the user's TRIP# range), then trips shared with them (byGrantee), one
   * opaque cursor across both: `{p:"o", sk}` inside the owned range, `{p:"s", o, t}` inside the shared.
   */
  async list ({ userId, cursor, limit }: { userId: string, cursor?: string, limit: number }): Promise<Static<typeof TripList>> {
    const c = decodeCursor(cursor, v => (v.p === 'o' && typeof v.sk === 'string' && v.sk.startsWith('TRIP#')) ||
      (v.p === 's' && ((v.o === undefined && v.t === undefined) || (typeof v.o === 'string' && typeof v.t === 'string'))))
    const items: Array<Static<typeof TripSummary>> = []
    if (!c || c.p === 'o') {
      const owned = await this.store.ownedTrips(userId, limit, c?.sk)
      for (const t of owned.items) {
        const v = projectTripForRole(t, 'owner')
        items.push(compactSummary({ id: v.id, name: v.name, role: 'owner', ownerId: userId, unassigned: v.unassigned, status: v.status, startsAt: v.startsAt, endsAt: v.endsAt }))
      }
      if (owned.lastSk) return { items, cursor: encodeCursor({ p: 'o', sk: owned.lastSk }) }
      if (items.length >= limit) return { items, cursor: encodeCursor({ p: 's' }) }
    }
    const after = c?.p === 's' && c.o && c.t ? { ownerId: c.o, tripId: c.t } : undefined
    const shared = await this.store.sharedTrips(userId, limit - items.length, after)
    for (const s of shared.items) items.push({ id: s.tripId, name: s.tripName, role: s.role, ownerId: s.ownerId })
    return { items, cursor: shared.last ? encodeCursor({ p: 's', o: shared.last.ownerId, t: shared.last.tripId }) : null }
  }

  /** One byTrip Query: the trip item authorizes (owner or a shares entry), its reservations follow. */
  async get ({ userId, id }: { userId: string, id: string }): Promise<Static<typeof TripDashboard>> {
    const { trip, reservations } = await this.store.tripWithReservations(id)
    const role = trip && roleOf(trip, userId)
    if (!trip || !role) throw notFound('trip')
    return { trip: projectTripForRole(trip, role), role, reservations: reservations.map(r => projectForRole(r, role)) }
  }

  /** The trip if the user owns it; 403 for a grantee, 404 for anyone else. */
  private async owned (userId: string, id: string): Promise<TripItem> {
    const own = await this.store.ownTrip(userId, id)
    if (own) return own
    const other = await this.store.tripById(id)
    if (other && roleOf(other, userId)) throw forbidden('a shared trip is read-only for its grantees')
    throw notFound('trip')
  }

  private async ownedChangeable (userId: string, id: string): Promise<TripItem> {
    const trip = await this.owned(userId, id)
    if (trip.unassigned || isUnassignedTripId(id)) throw conflict('the Unassigned trip cannot be renamed, removed or shared', 'trip_unassigned', 'params.id')
    return trip
  }

  async update ({ userId, id, patch }: { userId: string, id: string, patch: TripPatchBody }): Promise<void> {
    await this.ownedChangeable(userId, id)
    await this.commands.send(this.commands.build('trip.update', userId, userId, { tripId: id, patch }))
  }

  /** Its reservations move to the Unassigned trip, which must have room for all of them. */
  async remove ({ userId, id }: { userId: string, id: string }): Promise<void> {
    await this.ownedChangeable(userId, id)
    const [moving, held] = await Promise.all([
      this.store.countTripReservations(userId, id, LIMITS.reservationsPerTrip),
      this.store.countTripReservations(userId, unassignedTripId(userId), LIMITS.reservationsPerTrip)
    ])
    if (moving + held > LIMITS.reservationsPerTrip) {
      throw limitReached('reservationsPerTrip', 'params.id', `removing the trip would move its ${moving} live reservations into the Unassigned trip, which holds ${held}; move or remove some first`)
    }
    await this.commands.send(this.commands.build('trip.remove', userId, userId, { tripId: id }))
  }

  async share ({ userId, id, granteeId, role }: { userId: string, id: string, granteeId: string, role: ShareRole }): Promise<void> {
    const trip = await this.ownedChangeable(userId, id)
    if (granteeId === userId) throw invalidField('params.userId', 'share_self', 'a trip cannot be shared with its owner')
    // A new grantee needs room; changing the role of an existing one does not (own keys only).
    const grantees = Object.keys(trip.shares)
    if (!Object.hasOwn(trip.shares, granteeId) && grantees.length >= LIMITS.sharesPerTrip) {
      throw limitReached('sharesPerTrip', 'params.userId', `the trip is already shared with ${grantees.length} users`)
    }
    await this.commands.send(this.commands.build('trip.share.put', userId, userId, { tripId: id, granteeId, role }))
  }

  async unshare ({ userId, id, granteeId }: { userId: string, id: string, granteeId: string }): Promise<void> {
    const trip = await this.ownedChangeable(userId, id)
    if (!Object.hasOwn(trip.shares, granteeId)) throw notFound('share')
    await this.commands.send(this.commands.build('trip.share.remove', userId, userId, { tripId: id, granteeId }))
  }
}

function compactSummary (s: Static<typeof TripSummary>): Static<typeof TripSummary> {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Static<typeof TripSummary>
}
