/**
 * Which partitions of the command topic an updater owns. Pure: from an index and a count (a
 * StatefulSet ordinal and its replica count) or an explicit list. Partition p belongs to index
 * p % count, so the owners of any partition count are disjoint and together cover every
 * partition, whatever the two numbers (a count that does not divide the partitions only makes
 * shares differ by one).
 */
export class OwnershipError extends Error {
  readonly code = 'ownership_invalid'
  constructor (message: string) {
    super(message)
    this.name = 'OwnershipError'
  }
}

export type Ownership =
  | { kind: 'index', index: number, count: number }
  | { kind: 'explicit', partitions: readonly number[] }

export function ownedPartitions (ownership: Ownership, partitionCount: number): number[] {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new OwnershipError(`partition count ${partitionCount} is not a positive integer`)
  if (ownership.kind === 'explicit') {
    const seen = new Set<number>()
    for (const p of ownership.partitions) {
      if (!Number.isInteger(p) || p < 0 || p >= partitionCount) throw new OwnershipError(`partition ${p} is outside 0..${partitionCount - 1}`)
      if (seen.has(p)) throw new OwnershipError(`partition ${p} is listed twice`)
      seen.add(p)
    }
    if (seen.size === 0) throw new OwnershipError('the explicit partition list is empty')
    return [...seen].sort((a, b) => a - b)
  }
  const { index, count } = ownership
  if (!Number.isInteger(count) || count < 1) throw new OwnershipError(`UPDATER_COUNT ${count} is not a positive integer`)
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new OwnershipError(`UPDATER_INDEX ${index} is not in 0..${count - 1}`)
  const owned: number[] = []
  for (let p = index; p < partitionCount; p += count) owned.push(p)
  return owned
}

/** The ownership the settings describe: an explicit list wins over index and count. */
export function ownershipFrom (s: { UPDATER_INDEX: number, UPDATER_COUNT: number, UPDATER_PARTITIONS?: string }): Ownership {
  if (s.UPDATER_PARTITIONS !== undefined && s.UPDATER_PARTITIONS !== '') {
    return { kind: 'explicit', partitions: s.UPDATER_PARTITIONS.split(',').map(Number) }
  }
  return { kind: 'index', index: s.UPDATER_INDEX, count: s.UPDATER_COUNT }
}
