import { Consumer, MessagesStreamModes, type MessagesStream } from '@platformatic/kafka'
import { hostname } from 'node:os'
import type { Logger } from '../../shared/log/logger.ts'
import { decodeNotification, type Notification } from '../../shared/schemas/notification.ts'

export interface LiveFeedOptions {
  brokers: string[]
  /** The notifications topic (key: user id, value: Notification JSON). */
  topic: string
  /** Called once per notification id this process reads (e.g. hub.publish). */
  publish: (userId: string, notification: Notification) => void
  log: Logger
  clientId?: string
  /** Ids remembered to drop a notification the notifier published twice (after a retry). */
  dedupeWindow?: number
  maxWaitMs?: number
}

/**
 * Every API process reads every record of the notifications topic (a broadcast, not a share):
 * each process joins its own one-member group, named after the host, pid and a random suffix,
 * starts at the end of the topic (a live feed: what was missed is replayed from DynamoDB by
 * Last-Event-ID) and never commits, so the broker forgets the group once the process leaves.
 * Notifications are handed to `publish` in topic order per user; an id already passed on
 * (the notifier republishes after a crash mid-delivery) is dropped. Malformed records are logged
 * and skipped. A stream that closes unexpectedly is reopened.
 */
export class LiveFeed {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
  private stopped = false
  private readonly seen = new Set<string>()
  private readonly window: number

  constructor(private readonly o: LiveFeedOptions) {
    this.window = o.dedupeWindow ?? 10_000
  }

  /** Resolves once the feed is positioned at the end of every partition: later records are seen. */
  async start(): Promise<void> {
    this.stopped = false
    await this.open()
  }

  ready(): boolean {
    return !this.stopped && !!this.stream && !this.stream.destroyed && !!this.consumer?.isActive()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.stream?.close().catch(() => {})
    await this.consumer?.close(true).catch(() => {})
  }

  private async open(): Promise<void> {
    const groupId = `api-live-${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
    const consumer = new Consumer({
      clientId: this.o.clientId ?? 'api-live-feed',
      groupId,
      bootstrapBrokers: this.o.brokers,
      maxWaitTime: this.o.maxWaitMs ?? 200,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      autocommit: false,
      timeout: 10_000,
    })
    const stream = await consumer.consume({ topics: [this.o.topic], mode: MessagesStreamModes.LATEST, autocommit: false })
    this.consumer = consumer
    this.stream = stream
    const positioned = new Promise<void>((resolve) => {
      if (stream.offsetsToFetch.size > 0) resolve()
      else stream.once('offsets', () => resolve())
    })
    stream.on('data', (m) => {
      const d = decodeNotification(m.value ?? '')
      if (!d.ok) {
        this.o.log.warn('live_feed_bad_record', { partition: m.partition, offset: String(m.offset), reason: d.reason })
        return
      }
      const n = d.notification
      if (this.seen.has(n.id)) return
      this.remember(n.id)
      try {
        this.o.publish(n.userId, n)
      } catch (error) {
        this.o.log.warn('live_feed_publish_failed', { error: error as Error })
      }
    })
    stream.on('error', (error) => this.o.log.warn('live_feed_stream_error', { error }))
    stream.on('close', () => {
      if (this.stopped || this.stream !== stream) return
      this.o.log.warn('live_feed_stream_closed', { note: 'reopening' })
      void consumer.close(true).catch(() => {})
      void this.reopen()
    })
    await Promise.race([positioned, new Promise((r) => setTimeout(r, 10_000))])
    this.o.log.info('live_feed_started', { topic: this.o.topic, group: groupId })
  }

  private async reopen(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)))
      if (this.stopped) return
      try {
        await this.open()
        return
      } catch (error) {
        this.o.log.error('live_feed_reopen_failed', { attempt, error: error as Error })
      }
    }
  }

  private remember(id: string): void {
    this.seen.add(id)
    if (this.seen.size > this.window) this.seen.delete(this.seen.values().next().value!)
  }
}
