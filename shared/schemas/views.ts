import { Type, type Static } from '@sinclair/typebox'
import { AgencyId, Id, TripId } from './ids.ts'
import { Notes, Places, Price, ReservationType, Title, TrackingRef } from './reservation.ts'
import { ReservationStatus } from './status-event.ts'
import { ShareRole, TripName, TripNotes } from './trip.ts'

/**
 * Read shapes the API answers with (response schemas). Built from items by
 * domain/projection.ts; internal attributes (keys, indexes, offsets,
 * lastEvent) never leave the server.
 */

const closed = { additionalProperties: false } as const
const Time = Type.String({ maxLength: 24 })

/** What a `dates-and-places` grantee sees: the itinerary, nothing personal. */
export const itineraryFields = {
  id: Id,
  tripId: TripId,
  type: ReservationType,
  title: Title,
  startsAt: Time,
  endsAt: Time,
  places: Places,
  status: ReservationStatus,
}
export const ReservationItineraryView = Type.Object(itineraryFields, closed)
export type ReservationItineraryView = Static<typeof ReservationItineraryView>

/** Owner and `full` grantees (co-travellers). */
export const ReservationView = Type.Object(
  {
    ...itineraryFields,
    trackingRef: Type.Optional(TrackingRef),
    agencyId: Type.Optional(AgencyId),
    price: Type.Optional(Price),
    notes: Type.Optional(Notes),
    version: Type.Integer(),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
  },
  closed,
)
export type ReservationView = Static<typeof ReservationView>

export const TripView = Type.Object(
  {
    id: TripId,
    name: TripName,
    notes: Type.Optional(TripNotes),
    unassigned: Type.Boolean(),
    status: Type.Union([Type.Literal('active'), Type.Literal('finished')]),
    startsAt: Type.Optional(Time),
    endsAt: Type.Optional(Time),
    /** Only the owner sees who the trip is shared with. */
    shares: Type.Optional(Type.Record(Type.String(), ShareRole)),
    version: Type.Integer(),
  },
  closed,
)
export type TripView = Static<typeof TripView>
