import { Type, type Static } from '@sinclair/typebox'

export const TripName = Type.String({ minLength: 1, maxLength: 120 })
export const TripNotes = Type.String({ maxLength: 2000 })

export const TripCreateBody = Type.Object(
  { name: TripName, notes: Type.Optional(TripNotes) },
  { additionalProperties: false },
)
export type TripCreateBody = Static<typeof TripCreateBody>

/** At least one field; `notes: null` clears the notes. */
export const TripPatchBody = Type.Object(
  { name: Type.Optional(TripName), notes: Type.Optional(Type.Union([TripNotes, Type.Null()])) },
  { additionalProperties: false, minProperties: 1 },
)
export type TripPatchBody = Static<typeof TripPatchBody>

/**
 * `full`: a co-traveller reads the whole trip; `dates-and-places`: only the
 * itinerary (see projectForRole in domain/projection.ts).
 */
export const SHARE_ROLES = ['full', 'dates-and-places'] as const
export const ShareRole = Type.Union(SHARE_ROLES.map((r) => Type.Literal(r)))
export type ShareRole = Static<typeof ShareRole>

export const SharePutBody = Type.Object({ role: ShareRole }, { additionalProperties: false })
export type SharePutBody = Static<typeof SharePutBody>
