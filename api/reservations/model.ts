import { Type } from '@sinclair/typebox'
import { ReservationItineraryView, ReservationView } from '../../shared/schemas/views.ts'

/** What GET answers: the full view (owner, `full` grantee) or the itinerary (`dates-and-places`). */
export const ReservationRead = Type.Union([ReservationView, ReservationItineraryView])
