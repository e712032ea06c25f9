/**
 * Per-user, per-trip limits (DESIGN rule 8: no user can hurt another). The API refuses a request
 * that would break one with 422 and the limit's code; the fold refuses a command that would break
 * one (two requests raced past the API's check) as a rejection: a dead letter, and for reservation
 * commands a status event the user hears of. Never a write to retry.
 *
 * Each limit also bounds what one fold reads: a trip's live reservations come from the `live`
 * local index (one consistent Query), so a user's largest trip is at most
 * MAX_RESERVATIONS_PER_TRIP small index rows.
 */
export const LIMITS = {
  /** Live (not removed) reservations in one trip, the Unassigned trip included. */
  reservationsPerTrip: 500,
  /** Active reservations (status active, not removed) of one user across all trips. */
  activeReservationsPerUser: 2_000,
  /** Live (not removed) trips of one user, the Unassigned trip not counted. */
  tripsPerUser: 500,
  /** Grantees of one trip. */
  sharesPerTrip: 50,
} as const

/** Error codes of the limits, shared by the API's 422 and the fold's rejections. */
export const LIMIT_CODES = {
  reservationsPerTrip: 'limit_trip_reservations',
  activeReservationsPerUser: 'limit_active_reservations',
  tripsPerUser: 'limit_trips',
  sharesPerTrip: 'limit_trip_shares',
} as const
export type LimitCode = (typeof LIMIT_CODES)[keyof typeof LIMIT_CODES]
