/**
 * Which offset a partition may commit. Records of one partition can finish out of order (several
 * reservations are processed at once, each in its own order), so the offset committed is the
 * first one not known done: the lowest offset still in progress, or the highest done + 1 when
 * nothing below it is in progress. A restart replays from there; the dedupe record makes the
 * replay of records already done harmless.
 */
export interface PartitionProgress {
  /** Offsets read and not done yet (any order). */
  pending: Iterable<bigint>
  /** Highest offset done, if any. */
  highestDone?: bigint
  /** Last offset committed (the next to read), if any. */
  committed?: bigint
}

/** The offset to commit now, or undefined when there is nothing new to commit. Pure. */
export function offsetToCommit(p: PartitionProgress): bigint | undefined {
  if (p.highestDone === undefined) return undefined
  let next = p.highestDone + 1n
  for (const o of p.pending) if (o < next) next = o
  if (p.committed !== undefined && next <= p.committed) return undefined
  return next
}

/** Progress of one partition: read, done, committed. */
export class PartitionTracker {
  readonly pending = new Set<bigint>()
  highestDone: bigint | undefined
  committed: bigint | undefined
  /** Highest offset read: a record at or below it seen again (re-fetch after a rejoin) is skipped. */
  highestRead: bigint | undefined

  /** False if the offset was already read (a duplicate delivery of this process). */
  read(offset: bigint): boolean {
    if (this.highestRead !== undefined && offset <= this.highestRead) return false
    this.highestRead = offset
    this.pending.add(offset)
    return true
  }

  done(offset: bigint): void {
    this.pending.delete(offset)
    if (this.highestDone === undefined || offset > this.highestDone) this.highestDone = offset
  }

  toCommit(): bigint | undefined {
    return offsetToCommit(this)
  }

  get inFlight(): number {
    return this.pending.size
  }
}
