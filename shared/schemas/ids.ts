import { Type, type Static } from '@sinclair/typebox'

/**
 * Identifier shapes shared by HTTP path params, bodies and Kafka messages.
 * Every id is restricted to characters that never contain the `#` used as
 * the key separator in DynamoDB sort keys, so keys can be split safely.
 */

/** Time-ordered id: 26 Crockford base32 characters (ULID layout), upper case. */
export const ID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$'
export const Id = Type.String({ pattern: ID_PATTERN, minLength: 26, maxLength: 26 })
export type Id = Static<typeof Id>

/**
 * User ids come from the identity provider; bounded so keys stay small.
 * `__proto__` is refused: user ids are keys of a trip's `shares` map, and
 * the AWS SDK's (un)marshaller assigns map keys (`map[key] = …`), which for
 * `__proto__` sets a prototype instead of an entry, so such a share would
 * silently vanish between the fold and the table. Every other name of
 * Object.prototype is a valid id and is looked up as an own property only.
 */
export const USER_ID_PATTERN = '^(?!__proto__$)[A-Za-z0-9_-]{1,64}$'
export const UserId = Type.String({ pattern: USER_ID_PATTERN, minLength: 1, maxLength: 64 })
export type UserId = Static<typeof UserId>

/** Prefix of the deterministic id of each user's "Unassigned" trip. */
export const UNASSIGNED_PREFIX = 'unassigned-'

/**
 * A trip id is either a time-ordered id or `unassigned-<userId>`, the
 * deterministic id of a user's Unassigned trip (so it needs no lookup).
 */
export const TRIP_ID_PATTERN = '^(?:[0-9A-HJKMNP-TV-Z]{26}|unassigned-[A-Za-z0-9_-]{1,64})$'
export const TripId = Type.String({ pattern: TRIP_ID_PATTERN, minLength: 12, maxLength: 75 })
export type TripId = Static<typeof TripId>

/** Agencies are partners with ids of the same alphabet as users. */
export const AgencyId = Type.String({ pattern: USER_ID_PATTERN, minLength: 1, maxLength: 64 })
export type AgencyId = Static<typeof AgencyId>

/**
 * Who asked for a command: a user id, `agency:<agencyId>` or `system:<task>`
 * (the periodic trip-finishing task). Informational: the fold trusts the API.
 */
export const ActorId = Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,80}$', minLength: 1, maxLength: 80 })
export type ActorId = Static<typeof ActorId>
