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
] as const
export type RejectCode = (typeof REJECT_CODES)[number]

export interface Rejection {
  offset: number
  commandId: string
  code: RejectCode
  reason: string
}
