/**
 * Runs items with at most `maxKeys` keys at once and, within one key, one item at a time in the
 * order pushed. The status topic is keyed by reservation, so this keeps each reservation's changes
 * in order while a slow webhook of one user does not hold up the rest of the partition.
 * `run` resolving means the item is done; rejecting abandons the rest of that key's items (they
 * stay undone, so the commit never passes them: they are read again after a restart).
 * Keys take turns: after each item, a key with more items goes to the back of the line when other
 * keys are waiting, so a key with a long backlog (one user's many webhook jobs) holds one slot for
 * one item at a time, never a slot for its whole backlog.
 */
export class KeyedRunner<T> {
  private readonly queues = new Map<string, T[]>()
  private readonly waiting: string[] = []
  private running = 0
  private readonly idleWaiters: Array<() => void> = []

  constructor(
    private readonly maxKeys: number,
    private readonly run: (item: T) => Promise<void>,
    private readonly onDone: (item: T) => void,
    private readonly onFailed: (item: T, error: unknown) => void = () => {},
  ) {}

  push(key: string, item: T): void {
    const q = this.queues.get(key)
    if (q) {
      q.push(item)
      return
    }
    this.queues.set(key, [item])
    this.waiting.push(key)
    this.pump()
  }

  /** Items pushed and not finished (running included). */
  get size(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.length
    return n
  }

  /** Drops every item not started yet; returns them. Running ones finish. */
  clear(): T[] {
    const dropped: T[] = []
    const notStarted = new Set(this.waiting.splice(0))
    for (const [key, q] of this.queues) {
      if (notStarted.has(key)) {
        dropped.push(...q)
        this.queues.delete(key)
      } else dropped.push(...q.splice(1))
    }
    return dropped
  }

  /** Resolves once nothing runs. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    while (this.running < this.maxKeys && this.waiting.length > 0) {
      const key = this.waiting.shift()!
      this.running++
      void this.drain(key)
    }
  }

  private async drain(key: string): Promise<void> {
    const q = this.queues.get(key)!
    while (q.length > 0) {
      const item = q[0]!
      try {
        await this.run(item)
      } catch (error) {
        this.onFailed(item, error)
        q.length = 0
        break
      }
      q.shift()
      this.onDone(item)
      if (q.length > 0 && this.waiting.length > 0 && this.queues.get(key) === q) {
        this.waiting.push(key) // its turn is over: back of the line
        this.running--
        this.pump()
        return
      }
    }
    if (this.queues.get(key) === q) this.queues.delete(key)
    this.running--
    this.pump()
    this.settleIdle()
  }

  private settleIdle(): void {
    if (this.running === 0) for (const f of this.idleWaiters.splice(0)) f()
  }
}
