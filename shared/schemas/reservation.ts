import { Type, type Static } from '@sinclair/typebox'
import { AgencyId, Id, TripId } from './ids.ts'
import { IsoDateTime, parseInstant } from './times.ts'

/** Reservation bodies: HTTP bodies, Kafka payload parts and TS types at once. */

export const RESERVATION_TYPES = ['flight', 'hotel', 'car', 'rail', 'other'] as const
export const ReservationType = Type.Union(RESERVATION_TYPES.map((t) => Type.Literal(t)))
export type ReservationType = Static<typeof ReservationType>

export const Place = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    code: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,16}$', maxLength: 16 })),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  },
  { additionalProperties: false },
)
export type Place = Static<typeof Place>

export const Places = Type.Array(Place, { minItems: 1, maxItems: 10 })
export type Places = Static<typeof Places>

export const Price = Type.Object(
  {
    amount: Type.Number({ minimum: 0, maximum: 1e9 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', minLength: 3, maxLength: 3 }),
  },
  { additionalProperties: false },
)
export type Price = Static<typeof Price>

export const Title = Type.String({ minLength: 1, maxLength: 200 })
export const Notes = Type.String({ maxLength: 2000 })
export const TrackingRef = Type.String({ minLength: 1, maxLength: 100 })

/** Fields a create body carries besides the ids; reused by the create command. */
export const reservationCreateFields = {
  type: ReservationType,
  title: Title,
  startsAt: IsoDateTime,
  endsAt: IsoDateTime,
  /** Absent: the owner's Unassigned trip. */
  tripId: Type.Optional(TripId),
  places: Places,
  trackingRef: Type.Optional(TrackingRef),
  agencyId: Type.Optional(AgencyId),
  price: Type.Optional(Price),
  notes: Type.Optional(Notes),
}

export const ReservationCreateBody = Type.Object(reservationCreateFields, { additionalProperties: false })
export type ReservationCreateBody = Static<typeof ReservationCreateBody>

/**
 * Patch: every field optional, at least one. `null` clears an optional
 * field; `tripId: null` moves the reservation to the Unassigned trip.
 */
export const ReservationPatchBody = Type.Object(
  {
    type: Type.Optional(ReservationType),
    title: Type.Optional(Title),
    startsAt: Type.Optional(IsoDateTime),
    endsAt: Type.Optional(IsoDateTime),
    tripId: Type.Optional(Type.Union([TripId, Type.Null()])),
    places: Type.Optional(Places),
    trackingRef: Type.Optional(Type.Union([TrackingRef, Type.Null()])),
    agencyId: Type.Optional(Type.Union([AgencyId, Type.Null()])),
    price: Type.Optional(Type.Union([Price, Type.Null()])),
    notes: Type.Optional(Type.Union([Notes, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type ReservationPatchBody = Static<typeof ReservationPatchBody>

export const AGENCY_CHANGES = ['cancelled', 'rescheduled', 'updated'] as const
export const AgencyChange = Type.Union(AGENCY_CHANGES.map((c) => Type.Literal(c)))
export type AgencyChange = Static<typeof AgencyChange>

/**
 * What an agency may change besides times: a structured object rather than
 * free text, so it can be applied and diffed field by field.
 */
export const AgencyDetails = Type.Object(
  { title: Type.Optional(Title), places: Type.Optional(Places), notes: Type.Optional(Notes) },
  { additionalProperties: false, minProperties: 1 },
)
export type AgencyDetails = Static<typeof AgencyDetails>

/**
 * The agency's own id of one update: the API remembers (agencyId, updateId)
 * and answers a repeat without producing it again. Its own alphabet (no `#`,
 * `/` or spaces), bounded so the record's key stays small.
 */
export const AGENCY_UPDATE_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$'
export const AgencyUpdateId = Type.String({ pattern: AGENCY_UPDATE_ID_PATTERN, minLength: 1, maxLength: 128 })

/**
 * Agency update body. Flat (one object, not a union) so HTTP errors name
 * the field; `checkAgencyUpdate` adds the rules a schema cannot say.
 * `updateId` deduplicates; `occurredAt` (when the change happened at the
 * agency) orders: an update not later than the last one applied to the
 * reservation changes nothing (the fold's applyAgencyUpdate).
 */
export const AgencyUpdateBody = Type.Object(
  {
    reservationId: Id,
    updateId: AgencyUpdateId,
    occurredAt: IsoDateTime,
    change: AgencyChange,
    startsAt: Type.Optional(IsoDateTime),
    endsAt: Type.Optional(IsoDateTime),
    details: Type.Optional(AgencyDetails),
  },
  { additionalProperties: false },
)
export type AgencyUpdateBody = Static<typeof AgencyUpdateBody>

export interface BodyError {
  field: string
  code: 'missing_times' | 'missing_details' | 'invalid_time' | 'ends_before_start'
  message: string
}

/**
 * Rules across fields of an agency update: a reschedule names at least one
 * new time, an update carries details, and given times are valid and
 * ordered when both are present. Times against the stored reservation are
 * checked by the fold.
 */
export function checkAgencyUpdate(body: Omit<AgencyUpdateBody, 'updateId' | 'occurredAt'> & { occurredAt?: string }): BodyError | undefined {
  if (body.change === 'rescheduled' && body.startsAt === undefined && body.endsAt === undefined)
    return { field: 'startsAt', code: 'missing_times', message: 'a reschedule needs startsAt and/or endsAt' }
  if (body.change === 'updated' && body.details === undefined)
    return { field: 'details', code: 'missing_details', message: 'an update needs details' }
  for (const field of ['startsAt', 'endsAt', 'occurredAt'] as const) {
    const v = body[field]
    if (v !== undefined && parseInstant(v) === undefined)
      return { field, code: 'invalid_time', message: `${field} is not a valid ISO-8601 date-time` }
  }
  if (body.startsAt !== undefined && body.endsAt !== undefined && parseInstant(body.endsAt)! < parseInstant(body.startsAt)!)
    return { field: 'endsAt', code: 'ends_before_start', message: 'endsAt is before startsAt' }
  return undefined
}
