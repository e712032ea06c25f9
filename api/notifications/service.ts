import { type Static } from '@sinclair/typebox'
import { type NotificationItem } from '../../shared/domain/items.ts'
import { ID_PATTERN } from '../../shared/schemas/ids.ts'
import { type Notification } from '../../shared/schemas/notification.ts'
import { decodeCursor, encodeCursor } from '../cursor.ts'
import { ApiError } from '../errors.ts'
import { type Store } from '../store.ts'
import { type NotificationHub } from './hub.ts'
import { type NotificationList, type NotificationView } from './model.ts'

const idRe = new RegExp(ID_PATTERN)

export function toView (n: NotificationItem | Notification): Static<typeof NotificationView> {
  const v: Static<typeof NotificationView> = { id: n.id, reservationId: n.reservationId, kind: n.kind, message: n.message, createdAt: n.createdAt, data: n.data }
  if ('read' in n && n.read !== undefined) v.read = n.read
  return v
}

export interface StreamOptions {
  heartbeatMs: number
  /** Most notifications replayed after Last-Event-ID. */
  maxReplay: number
}

/** How many sent ids a stream remembers to drop repeats (the live feed redelivers after restarts). */
const recentIds = 1000
/** Retry-After of a stream refused for want of room. */
const STREAMS_FULL_RETRY_S = 5
/** setTimeout's longest delay (about 24.8 days); a longer-lived credential ends its stream then. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class NotificationService {
  constructor (private readonly store: Store, private readonly hub: NotificationHub, private readonly o: StreamOptions) {}

  /** Newest first; the cursor is the last id of the page (older ones follow it). */
  async list ({ userId, cursor, limit }: { userId: string, cursor?: string, limit: number }): Promise<Static<typeof NotificationList>> {
    const c = decodeCursor(cursor, v => typeof v.b === 'string' && idRe.test(v.b))
    const page = await this.store.notifications(userId, { limit, beforeId: c?.b })
    const last = page.items.at(-1)
    return { items: page.items.map(toView), cursor: page.more && last ? encodeCursor({ b: last.id }) : null }
  }

  /**
   * Server-Sent Events. Wire format, one event per notification:
   *   id: <notification id>\nevent: notification\ndata: <NotificationView JSON>\n\n
   * and `: heartbeat` comment lines every heartbeatMs so proxies keep the connection. With
   * Last-Event-ID, the notifications stored after that id are sent first (oldest first, at most
   * maxReplay); live ones from the hub are held back meanwhile and sent after, each id at most once.
   * At `expiresAtMs` (the token's or ticket's expiry) `event: expired\ndata: {"reason":…}` is sent
   * and the stream ends. No room in this process (hub.admits): 503 streams_full, before any byte.
   */
  stream ({ userId, lastEventId, signal, expiresAtMs = Number.POSITIVE_INFINITY }: { userId: string, lastEventId?: string, signal?: AbortSignal, expiresAtMs?: number }): Response {
    if (!this.hub.admits(userId)) throw new ApiError(503, 'streams_full', 'this server has no room for another notification stream; retry later', [], STREAMS_FULL_RETRY_S)
    const enc = new TextEncoder()
    const hub = this.hub
    const { heartbeatMs, maxReplay } = this.o
    const store = this.store
    let cleanup = () => {}
    const body = new ReadableStream<Uint8Array>({
      start: async controller => {
        let closed = false
        let replaying = true
        const held: Notification[] = []
        // Ids come from several notifiers' clocks, so a live one may sort below one already sent:
        // dedupe by the ids recently sent, not by order.
        const sent = new Set<string>()
        const write = (text: string) => { if (!closed) { try { controller.enqueue(enc.encode(text)) } catch { close() } } }
        const send = (n: Notification | NotificationItem) => {
          if (sent.has(n.id) || n.id === lastEventId) return
          sent.add(n.id)
          if (sent.size > recentIds) sent.delete(sent.values().next().value!)
          write(`id: ${n.id}\nevent: notification\ndata: ${JSON.stringify(toView(n))}\n\n`)
        }
        const close = () => {
          if (closed) return
          closed = true
          cleanup()
          try { controller.close() } catch {}
        }
        const unsubscribe = hub.subscribe(userId, n => { if (replaying) held.push(n); else send(n) }, close)
        const beat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs)
        // The stream lives as long as its credential: at expiry it says so and ends; the client
        // reconnects with a fresh token or ticket and its last event id.
        const expiry = setTimeout(() => {
          write(`event: expired\ndata: {"reason":"credential expired"}\n\n`)
          close()
        }, Math.min(MAX_TIMER_MS, Math.max(0, expiresAtMs - Date.now())))
        cleanup = () => { clearInterval(beat); clearTimeout(expiry); unsubscribe(); signal?.removeEventListener('abort', close) }
        signal?.addEventListener('abort', close)
        write(`retry: 2000\n: connected\n\n`)
        if (lastEventId) {
          try {
            let after: string = lastEventId
            for (let sent = 0; sent < maxReplay;) {
              const page = await store.notifications(userId, { limit: Math.min(100, maxReplay - sent), afterId: after })
              for (const n of page.items) send(n)
              sent += page.items.length
              const last = page.items.at(-1)
              if (!page.more || !last) break
              after = last.id
            }
          } catch {
            write(': replay unavailable\n\n')
          }
        }
        replaying = false
        for (const n of held.sort((a, b) => (a.id < b.id ? -1 : 1))) send(n)
        held.length = 0
      },
      cancel: () => cleanup()
    })
    return new Response(body, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' }
    })
  }
}
