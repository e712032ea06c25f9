import { Type } from '@sinclair/typebox'
import { TripId, UserId } from '../../shared/schemas/ids.ts'
import { ShareRole } from '../../shared/schemas/trip.ts'
import { ReservationItineraryView, ReservationView, TripView } from '../../shared/schemas/views.ts'

export const ReaderRole = Type.Union([Type.Literal('owner'), ShareRole])

/** One row of GET /v1/trips: owned trips carry their span, shared ones only what the share item holds. */
export const TripSummary = Type.Object({
  id: TripId,
  name: TripView.properties.name,
  role: ReaderRole,
  ownerId: UserId,
  unassigned: Type.Optional(Type.Boolean()),
  status: Type.Optional(TripView.properties.status),
  startsAt: Type.Optional(Type.String()),
  endsAt: Type.Optional(Type.String())
}, { additionalProperties: false })

export const TripList = Type.Object({
  items: Type.Array(TripSummary),
  cursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for the next page; null on the last' })
}, { additionalProperties: false })

/** GET /v1/trips/:id: the trip and its reservations ordered by start time, as the reader's role allows. */
export const TripDashboard = Type.Object({
  trip: TripView,
  role: ReaderRole,
  reservations: Type.Array(Type.Union([ReservationView, ReservationItineraryView]))
}, { additionalProperties: false })

export const TripParams = Type.Object({ id: TripId }, { additionalProperties: false })
export const ShareParams = Type.Object({ id: TripId, userId: UserId }, { additionalProperties: false })
