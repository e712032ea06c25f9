import { LIMIT_CODES, type LimitCode } from './limits.ts'

/**
 * Why the fold refuses a command. Rejections are final (the command is
 * impossible against the current state, retrying cannot help): the updater
 * reports them (dead letter / log) and moves on.
 */
export const REJECT_CODES = [
  'wrong_user',
  'reservation_exists',
  'reservation_not_found',
  'reservation_removed',
  'trip_exists',
  'trip_not_found',
  'trip_unassigned',
  'invalid_times',
  'invalid_agency_update',
  'agency_mismatch',
  'share_self',
  'share_not_found',
  // Limits (limits.ts LIMIT_CODES): the API checks them first; these are the races past it.
  'limit_trip_reservations',
  'limit_active_reservations',
  'limit_trips',
  'limit_trip_shares',
] as const
export type RejectCode = (typeof REJECT_CODES)[number]

export interface Rejection {
  offset: number
  commandId: string
  code: RejectCode
  reason: string
}

/** Every limit code is a rejection code (a type error here otherwise). */
export const LIMIT_REJECT_CODES: readonly RejectCode[] = Object.values(LIMIT_CODES) satisfies readonly LimitCode[]
