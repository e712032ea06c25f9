import { Type, type Static } from '@sinclair/typebox'

/**
 * ISO-8601 date-time with an explicit zone (`Z` or `±hh:mm`), seconds and
 * fraction optional. The pattern only checks the shape; `parseInstant`
 * rejects impossible dates (Feb 30, 24:00) that `Date.parse` would accept.
 */
export const DATE_TIME_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?(?:Z|[+-]\\d{2}:\\d{2})$'
export const IsoDateTime = Type.String({ pattern: DATE_TIME_PATTERN, minLength: 17, maxLength: 35 })
export type IsoDateTime = Static<typeof IsoDateTime>

const PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/

/** Epoch milliseconds of a strict ISO date-time, or undefined if invalid. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 35) return undefined
  const m = PARTS.exec(value)
  if (!m) return undefined
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number]
  const second = m[6] === undefined ? 0 : Number(m[6])
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000)
  if (year < 1900 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  // Date.UTC rolls Feb 30 over to March: a round trip catches impossible days.
  if (new Date(local).getUTCDate() !== day) return undefined
  if (m[8] === 'Z') return local
  const offH = Number(m[10])
  const offM = Number(m[11])
  if (offH > 23 || offM > 59) return undefined
  const offset = (offH * 60 + offM) * 60_000
  return m[9] === '+' ? local - offset : local + offset
}

/**
 * Canonical stored form: UTC, milliseconds, `Z` (24 characters for years
 * 1900-9999), so stored times compare and sort as plain strings (gsi3sk).
 */
export function normalizeInstant(value: string): string | undefined {
  const ms = parseInstant(value)
  if (ms === undefined) return undefined
  const iso = new Date(ms).toISOString()
  return iso.length === 24 ? iso : undefined
}

export type TimeField = 'startsAt' | 'endsAt'

/** Error descriptor naming the offending field; the API maps it to a 422. */
export interface TimeError {
  field: TimeField
  code: 'invalid_time' | 'ends_before_start'
  message: string
}

/**
 * Checks a start/end pair: both valid instants, end not before start.
 * Used by the API (to answer 422 before accepting) and by the fold (after
 * applying a patch or an agency reschedule to stored times).
 */
export function checkTimes(startsAt: string, endsAt: string): TimeError | undefined {
  const start = normalizeInstant(startsAt)
  if (start === undefined) return { field: 'startsAt', code: 'invalid_time', message: 'startsAt is not a valid ISO-8601 date-time' }
  const end = normalizeInstant(endsAt)
  if (end === undefined) return { field: 'endsAt', code: 'invalid_time', message: 'endsAt is not a valid ISO-8601 date-time' }
  if (end < start) return { field: 'endsAt', code: 'ends_before_start', message: 'endsAt is before startsAt' }
  return undefined
}
