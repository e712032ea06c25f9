/**
 * Coalesces offset commits of several partitions into one OffsetCommit request: a caller's
 * promise resolves once a request carrying its offset (or a later one of the same partition)
 * succeeded. One request in flight at a time, so commits of one partition never reorder.
 */
export class Committer {
  private pending = new Map<number, number>()
  private waiters: Array<{ resolve: () => void, reject: (e: unknown) => void }> = []
  private running = false

  constructor (private readonly commitFn: (offsets: ReadonlyMap<number, number>) => Promise<void>, private readonly onResult: (ok: boolean) => void = () => {}) {}

  commit (partition: number, offset: number): Promise<void> {
    this.pending.set(partition, Math.max(offset, this.pending.get(partition) ?? 0))
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    if (!this.running) void this.loop()
    return p
  }

  private async loop (): Promise<void> {
    this.running = true
    while (this.pending.size > 0) {
      await Promise.resolve() // let commits of the same tick join
      const batch = this.pending
      const waiters = this.waiters
      this.pending = new Map()
      this.waiters = []
      try {
        await this.commitFn(batch)
        this.onResult(true)
        waiters.forEach(w => w.resolve())
      } catch (err) {
        this.onResult(false)
        waiters.forEach(w => w.reject(err))
      }
    }
    this.running = false
  }
}
