import { ApiError } from './errors.ts'

/**
 * The protocol that lets a request produce its command once per key, whoever retries it: the
 * Idempotency-Key of a create (api/idempotency.ts) and an agency's updateId (api/agencies/dedupe.ts).
 * The record is written with a conditional put BEFORE producing and holds the command's exact bytes
 * and a lease:
 * - first request: the put wins; produce; mark the record done.
 * - a repeat after success: the record is done; `replayed`, nothing produced.
 * - two at once: one put wins; the other waits (polling, at most a lease) for the record to be
 *   done; past that, 409 `idempotency_in_progress`.
 * - the produce failed (503) or the process died after the put: the lease is released (or runs
 *   out); the retry takes it over with a conditional update and re-sends the SAME bytes, so the
 *   command is neither lost nor produced as two different commands.
 * - a record of another request under the same key: the caller's `conflict` error (422).
 */
export interface SendOnceRecord {
  requestHash: string
  /** The command as produced (JSON): a take-over re-sends exactly these bytes. */
  command: string
  state: 'pending' | 'done'
  /** Epoch ms until which the request holding the record is producing. */
  leaseUntil: number
}

/** Conditional I/O of one record; `put` and `moveLease` resolve false when their condition failed. */
export interface SendOnceIo<R extends SendOnceRecord> {
  get (): Promise<R | undefined>
  /** Writes the record unless a live one exists. */
  put (record: R): Promise<boolean>
  /** Moves a pending record's lease from `expected` to `leaseUntil` (take-over or release). */
  moveLease (expected: number, leaseUntil: number): Promise<boolean>
  markDone (): Promise<void>
}

export interface SendOnceSteps<R extends SendOnceRecord> {
  /** How long one request may hold the record while producing (ms). */
  leaseMs: number
  /** The error when `existing` was written by another request under the same key, else undefined. */
  conflict (existing: R): ApiError | undefined
  /** Produces `record.command`. */
  send (record: R): Promise<unknown>
  /** The 409's message while another request still holds the record. */
  inProgress: string
  onTakeover (existing: R): void
  onMarkFailed (error: unknown): void
}

export async function sendOnce<R extends SendOnceRecord> (io: SendOnceIo<R>, record: R, steps: SendOnceSteps<R>): Promise<{ record: R, replayed: boolean }> {
  const waitUntil = Date.now() + steps.leaseMs + 500
  for (let attempt = 0; ; attempt++) {
    if (await io.put(record)) return { record: await produce(io, record, steps), replayed: false }
    const existing = await io.get()
    if (!existing) continue // expired in between: the next put may win
    const conflict = steps.conflict(existing)
    if (conflict) throw conflict
    if (existing.state === 'done') return { record: existing, replayed: true }
    if (existing.leaseUntil <= Date.now()) {
      const lease = Date.now() + steps.leaseMs
      if (!await io.moveLease(existing.leaseUntil, lease)) continue
      steps.onTakeover(existing)
      return { record: await produce(io, { ...existing, leaseUntil: lease }, steps), replayed: true }
    }
    if (Date.now() > waitUntil || attempt > 1000) throw new ApiError(409, 'idempotency_in_progress', steps.inProgress, [], 1)
    await Bun.sleep(Math.min(50, Math.max(1, existing.leaseUntil - Date.now())))
  }
}

async function produce<R extends SendOnceRecord> (io: SendOnceIo<R>, record: R, steps: SendOnceSteps<R>): Promise<R> {
  try {
    await steps.send(record)
  } catch (err) {
    // Let the retry take over at once (it re-sends these same bytes).
    await io.moveLease(record.leaseUntil, Date.now()).catch(() => {})
    throw err
  }
  // Best effort: if this write fails the record stays pending and a retry re-sends the same command.
  await io.markDone().catch(steps.onMarkFailed)
  return record
}

/** A conditional write's refusal as `false`; any other error is thrown. */
export async function unlessTaken (write: () => Promise<void>, taken: (err: unknown) => boolean): Promise<boolean> {
  try {
    await write()
    return true
  } catch (err) {
    if (taken(err)) return false
    throw err
  }
}
