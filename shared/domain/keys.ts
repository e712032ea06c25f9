import { UNASSIGNED_PREFIX } from '../schemas/ids.ts'

/**
 * Single-table key model. Everything a user owns lives under pk `U#<userId>`
 * (the same key as the Kafka command key, so one updater writes it); the
 * sort key says what the item is. Ids never contain `#` (see schemas/ids).
 */

export const PK_PREFIX = 'U#'
export const SK = {
  profile: 'PROFILE',
  settings: 'SETTINGS',
  trip: 'TRIP#',
  reservation: 'RES#',
  share: 'SHARE#',
  notification: 'NOTIF#',
  /** The notifier's per-reservation dedupe record. */
  notified: 'NOTIFIED#',
} as const

export const userPk = (userId: string) => `${PK_PREFIX}${userId}`
export const profileSk = () => SK.profile
export const settingsSk = () => SK.settings
export const tripSk = (tripId: string) => `${SK.trip}${tripId}`
export const reservationSk = (reservationId: string) => `${SK.reservation}${reservationId}`
export const shareSk = (tripId: string, granteeId: string) => `${SK.share}${tripId}#${granteeId}`
export const notificationSk = (notificationId: string) => `${SK.notification}${notificationId}`
export const notifiedSk = (reservationId: string) => `${SK.notified}${reservationId}`

export interface ItemKey {
  pk: string
  sk: string
}
export const itemKey = (userId: string, sk: string): ItemKey => ({ pk: userPk(userId), sk })

/** userId from a pk, or undefined if it is not a user partition. */
export const userIdOf = (pk: string) => (pk.startsWith(PK_PREFIX) ? pk.slice(PK_PREFIX.length) : undefined)

/**
 * Each user has one "Unassigned" trip whose id is derived from the user id,
 * so commands and readers can name it without a lookup. It is created
 * lazily by the fold the first time a reservation lands in it.
 */
export const unassignedTripId = (userId: string) => `${UNASSIGNED_PREFIX}${userId}`
export const isUnassignedTripId = (tripId: string) => tripId.startsWith(UNASSIGNED_PREFIX)

/**
 * Global secondary indexes: names and key attribute names. Index attributes
 * are present only while an item belongs in the index (sparse indexes);
 * tombstones drop them so removed items leave every index.
 */
export const GSI = {
  /** "Trips shared with me": share items. */
  byGrantee: { name: 'byGrantee', pk: 'gsi1pk', sk: 'gsi1sk' },
  /** Owner of a reservation from its id (agency updates): reservation items. */
  byReservation: { name: 'byReservation', pk: 'gsi2pk' },
  /** A trip with its reservations (by start) and its shares, in one Query. */
  byTrip: { name: 'byTrip', pk: 'gsi3pk', sk: 'gsi3sk' },
  /** Unfinished trips by end day, for the periodic finishing task. */
  byEndDay: { name: 'byEndDay', pk: 'gsi4pk', sk: 'gsi4sk' },
} as const

/**
 * Local secondary index `live` (same partition key `pk`, sort key `lsi1sk`): a user's live
 * reservations by trip and live trips, read with strongly consistent Queries (an LSI allows
 * them, a GSI does not), so the fold counts and finds them without a map on any item
 * (DESIGN rule 8). Sparse like the GSIs: `lsi1sk` is present only while the item is live.
 *   reservation, not removed: `R#<tripId>#<reservationId>`
 *   trip, not removed:        `T#<tripId>` (the Unassigned trip too)
 * Projection: keys plus startsAt, endsAt, status (a trip's span and the counts) and lastOffset (a
 * replay finds the reservations an earlier attempt of its batch already moved or finished).
 */
export const LSI = {
  live: { name: 'live', pk: 'pk', sk: 'lsi1sk' },
} as const
export const LIVE_PROJECTION = ['startsAt', 'endsAt', 'status', 'lastOffset'] as const
export const LIVE_RESERVATIONS_PREFIX = 'R#'
export const LIVE_TRIPS_PREFIX = 'T#'
export const liveReservationLsiSk = (tripId: string, reservationId: string) => `${LIVE_RESERVATIONS_PREFIX}${tripId}#${reservationId}`
/** Every live reservation of one trip (ids never contain `#`, so the trailing `#` ends the trip id). */
export const tripReservationsLsiPrefix = (tripId: string) => `${LIVE_RESERVATIONS_PREFIX}${tripId}#`
export const liveTripLsiSk = (tripId: string) => `${LIVE_TRIPS_PREFIX}${tripId}`

export const granteeGsiPk = (granteeId: string) => `G#${granteeId}`
export const granteeGsiSk = (tripId: string) => `TRIP#${tripId}`
export const reservationGsiPk = (reservationId: string) => `R#${reservationId}`
export const tripGsiPk = (tripId: string) => `T#${tripId}`
/** byTrip sort keys: `#` sorts before digits, so the trip item comes first,
 * reservations follow by start time, and `~` puts shares last. */
export const TRIP_GSI_SK = '#TRIP'
export const reservationTripGsiSk = (startsAt: string, reservationId: string) => `${startsAt}#${reservationId}`
export const shareTripGsiSk = (granteeId: string) => `~SHARE#${granteeId}`
/** byEndDay: day bucket of the trip's end (UTC) and a sortable `<endsAt>#<userId>#<tripId>`. */
export const endDayGsiPk = (endsAt: string) => `END#${endsAt.slice(0, 10)}`
export const endDayGsiSk = (endsAt: string, userId: string, tripId: string) => `${endsAt}#${userId}#${tripId}`

/** Parses a byEndDay sort key back into its parts (the periodic task needs user and trip). */
export function parseEndDayGsiSk(sk: string): { endsAt: string; userId: string; tripId: string } | undefined {
  const parts = sk.split('#')
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return undefined
  return { endsAt: parts[0], userId: parts[1], tripId: parts[2] }
}

/** The byEndDay partitions (UTC days) from `fromMs` to `toMs` inclusive, oldest first. */
export function endDaysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = []
  const day = 86_400_000
  for (let t = Math.floor(fromMs / day) * day; t <= toMs; t += day) days.push(`END#${new Date(t).toISOString().slice(0, 10)}`)
  return days
}
