import { type Notification } from '../../shared/schemas/notification.ts'

export type Listener = (n: Notification) => void

/**
 * In-process fan-out of live notifications to this process's open streams, by user id (the live
 * feed publishes what it reads from the notifications topic).
 * A user keeps at most `maxPerUser` streams per process; the oldest is closed for a new one.
 * The process holds at most `maxStreams` streams: past it `admits` says no and the API refuses the
 * new stream (503), so many users' streams cannot exhaust one process.
 */
export class NotificationHub {
  private readonly byUser = new Map<string, Set<Subscription>>()
  private count = 0

  constructor (private readonly maxPerUser = 5, private readonly maxStreams = Number.POSITIVE_INFINITY) {}

  /** Whether a new stream of `userId` fits: under the process cap, or replacing the user's oldest. */
  admits (userId: string): boolean {
    return this.count < this.maxStreams || (this.byUser.get(userId)?.size ?? 0) >= this.maxPerUser
  }

  subscribe (userId: string, listener: Listener, onClose: () => void): () => void {
    let subs = this.byUser.get(userId)
    if (!subs) { subs = new Set(); this.byUser.set(userId, subs) }
    if (subs.size >= this.maxPerUser) {
      const oldest = subs.values().next().value!
      this.remove(userId, oldest)
      oldest.onClose()
    }
    const sub: Subscription = { listener, onClose }
    subs.add(sub)
    this.count++
    return () => this.remove(userId, sub)
  }

  /** Delivers to every stream of the user in this process; returns how many received it. */
  publish (userId: string, notification: Notification): number {
    const subs = this.byUser.get(userId)
    if (!subs) return 0
    for (const s of subs) {
      try { s.listener(notification) } catch {}
    }
    return subs.size
  }

  /** Open streams in this process. */
  get size (): number { return this.count }

  /** Ends every stream (shutdown: lets in-flight HTTP finish). */
  closeAll (): void {
    for (const [userId, subs] of this.byUser) for (const s of [...subs]) { this.remove(userId, s); s.onClose() }
  }

  private remove (userId: string, sub: Subscription): void {
    const subs = this.byUser.get(userId)
    if (!subs?.delete(sub)) return
    this.count--
    if (subs.size === 0) this.byUser.delete(userId)
  }
}

interface Subscription { listener: Listener, onClose: () => void }
