import type { ShareRole } from '../schemas/trip.ts'
import type { ReservationItineraryView, ReservationView, TripView } from '../schemas/views.ts'
import { compact, type ReservationItem, type TripItem } from './items.ts'

/** Who is reading: the owner, or a grantee with a share role. */
export type ReaderRole = 'owner' | ShareRole

/**
 * What a reader may see of a reservation. `dates-and-places` grantees see
 * the itinerary (times, places, type, status and the title, which is what
 * makes an itinerary readable) and never price, trackingRef, agencyId or
 * notes. Owner and `full` co-travellers see every public field.
 */
export function projectForRole(r: ReservationItem, role: 'dates-and-places'): ReservationItineraryView
export function projectForRole(r: ReservationItem, role: ReaderRole): ReservationView | ReservationItineraryView
export function projectForRole(r: ReservationItem, role: ReaderRole): ReservationView | ReservationItineraryView {
  const itinerary: ReservationItineraryView = {
    id: r.id,
    tripId: r.tripId,
    type: r.type,
    title: r.title,
    startsAt: r.startsAt,
    endsAt: r.endsAt,
    places: r.places,
    status: r.status,
  }
  if (role === 'dates-and-places') return itinerary
  return compact({
    ...itinerary,
    trackingRef: r.trackingRef,
    agencyId: r.agencyId,
    price: r.price,
    notes: r.notes,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  })
}

/**
 * The role a user has on a trip item, or undefined if none (or removed).
 * Own entries only: user ids are the identity provider's strings, and a
 * user named `constructor`, `__proto__` or `toString` must not find
 * Object.prototype's members in a plain `shares` map; only a known role
 * counts.
 */
export function roleOf(trip: TripItem, userId: string): ReaderRole | undefined {
  if (trip.deleted) return undefined
  if (trip.ownerId === userId) return 'owner'
  if (!Object.hasOwn(trip.shares, userId)) return undefined
  const role: unknown = trip.shares[userId]
  return role === 'full' || role === 'dates-and-places' ? role : undefined
}

/** Trip as a reader sees it: notes hidden from dates-and-places, shares from grantees. */
export function projectTripForRole(trip: TripItem, role: ReaderRole): TripView {
  return compact({
    id: trip.id,
    name: trip.name,
    notes: role === 'dates-and-places' ? undefined : trip.notes,
    unassigned: trip.unassigned,
    status: trip.status === 'finished' ? 'finished' : 'active',
    startsAt: trip.startsAt,
    endsAt: trip.endsAt,
    shares: role === 'owner' ? trip.shares : undefined,
    version: trip.version,
  })
}
