/**
 * "503 means not written": a command the API gave up on can never be applied.
 *
 * Wire format: a command produced with a deadline carries the Kafka header
 *   not-after   epoch ms (decimal ASCII), the latest broker append time at which it may be applied
 * and the command topic has `message.timestamp.type=LogAppendTime`, so every record's timestamp is
 * the time the broker appended it (its own clock), whoever produced it and however late.
 *
 * - The updater applies a record only if its append time ≤ not-after; a later one is a dead letter
 *   with code `expired` (no status event: the client was told 503).
 * - The API's producer answers 202 only when the ack's append time (the same number the updater
 *   will see) is ≤ not-after, and 503 otherwise; with no ack by its local deadline it answers 503.
 *   not-after = send time + deadline − clock-skew allowance, so a record the broker appends after
 *   that local deadline has an append time > not-after as long as the broker's and the API's
 *   clocks differ by at most the allowance (a request already in a frozen broker's socket lands
 *   when it resumes, with the resume time as its timestamp, and is dropped).
 * - A command without the header has no deadline (the finisher's trip.finish, seeders, tests that
 *   produce straight to the topic): applied whenever it lands, as before.
 * - A record whose batch carries the producer's timestamps (CreateTime: the topic was not brought
 *   to LogAppendTime) cannot be judged: it is applied and reported as `unchecked`.
 */

export const NOT_AFTER_HEADER = 'not-after'

/** The latest append time (epoch ms, broker clock) a command sent at `sentAt` (API clock) may have. */
export function notAfterFor (sentAt: number, deadlineMs: number, clockSkewMs: number): number {
  // −1: a record appended exactly at the local deadline with the largest allowed skew is still late.
  return sentAt + deadlineMs - clockSkewMs - 1
}

/** The header's value, or undefined when absent; a malformed value is reported as NaN (judged expired). */
export function parseNotAfter (value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  return /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN
}

export type Expiry =
  | { verdict: 'apply' }
  | { verdict: 'unchecked' }
  | { verdict: 'expired', reason: string }

/**
 * The updater's rule for one record. `appendTime`: the record's timestamp when its batch carries
 * the broker's append time, undefined when it carries the producer's (CreateTime).
 */
export function judgeRecord (notAfter: number | undefined, appendTime: number | undefined): Expiry {
  if (notAfter === undefined) return { verdict: 'apply' }
  if (Number.isNaN(notAfter)) return { verdict: 'expired', reason: `malformed ${NOT_AFTER_HEADER} header` }
  if (appendTime === undefined) return { verdict: 'unchecked' }
  if (appendTime <= notAfter) return { verdict: 'apply' }
  return { verdict: 'expired', reason: `appended at ${appendTime}, ${appendTime - notAfter} ms after its deadline ${notAfter} (the API answered 503)` }
}

/**
 * The producer's decision on an ack: 'accepted' (202) when the broker's append time is within the
 * deadline, 'expired' (503: the updater will drop it) when past it. An ack without an append time
 * (a CreateTime topic) is accepted: such a record is applied whenever it lands.
 */
export function ackOutcome (notAfter: number, appendTime: number | undefined): 'accepted' | 'expired' {
  return appendTime === undefined || appendTime <= notAfter ? 'accepted' : 'expired'
}
