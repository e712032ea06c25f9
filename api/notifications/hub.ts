import { type Notification } from '../../shared/schemas/notification.ts'

export type Listener = (n: Notification) => void

/**
 * In-process fan-out of live notifications to this process's open streams, by user id.
 * `publish` is what the notifications-topic consumer (the notifier issue) will call for each
 * message it reads; until then nothing publishes and streams only replay from DynamoDB and beat.
 * A user keeps at most `maxPerUser` streams per process; the oldest is closed for a new one.
 */
export class NotificationHub {
  private readonly byUser = new Map<string, Set<Subscription>>()
  private count = 0

  constructor (private readonly maxPerUser = 5) {}

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
