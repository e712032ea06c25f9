/**
 * The offset to commit for a partition, from the outcomes of the records read from it: the
 * highest offset done + 1, counting only the contiguous run from the current position, so a
 * record that is not done yet (a failed write) holds everything after it back. Every record of
 * a batch ends as done (applied, skipped as a replay, rejected or dead-lettered) or not; only a
 * whole batch written, produced and dead-lettered counts as done. Pure.
 */
export interface RecordOutcome {
  offset: number
  done: boolean
}

/**
 * @param position the next offset the partition has not yet committed (what a commit would say today)
 * @returns the offset to commit (next to read), or undefined when nothing moves forward
 */
export function nextCommitOffset (position: number, outcomes: readonly RecordOutcome[]): number | undefined {
  const sorted = [...outcomes].sort((a, b) => a.offset - b.offset)
  let next = position
  for (const o of sorted) {
    if (o.offset < next) continue // already committed (a replay)
    // Offsets may have gaps (compaction, transaction markers): a gap is not a failure.
    if (!o.done) break
    next = o.offset + 1
  }
  return next > position ? next : undefined
}

/** Per partition: offsets to commit, for the partitions that moved. */
export function commitsFor (positions: ReadonlyMap<number, number>, outcomes: ReadonlyMap<number, readonly RecordOutcome[]>): Map<number, number> {
  const out = new Map<number, number>()
  for (const [partition, list] of outcomes) {
    const next = nextCommitOffset(positions.get(partition) ?? 0, list)
    if (next !== undefined) out.set(partition, next)
  }
  return out
}
