import type { Notification } from '../schemas/notification.ts'
import type { StatusEvent } from '../schemas/status-event.ts'
import type { NotifiedItem } from './items.ts'

/**
 * Pure helpers for the notifier: dedupe against the `NOTIFIED#` record and
 * turn a status event into a notification. The human text comes from the
 * notifier's resource files (notifier/messages), in the user's language and
 * time zone, and is passed in as `message`.
 */

/**
 * True if the event is news for the user: no record yet, or a seq above
 * the last one notified. Seqs grow per reservation (one partition per user),
 * so redelivered or replayed events are recognised by seq alone.
 */
export function isNewForUser(record: Pick<NotifiedItem, 'lastSeq'> | undefined, event: Pick<StatusEvent, 'seq'>): boolean {
  return record?.lastSeq === undefined || event.seq > record.lastSeq
}

export function notificationFromEvent(event: StatusEvent, options: { id: string; createdAt: number; message: string }): Notification {
  const data: Notification['data'] = {
    tripId: event.tripId,
    seq: event.seq,
    status: event.status,
    title: event.current.title,
    startsAt: event.current.startsAt,
    endsAt: event.current.endsAt,
  }
  if (event.previous) {
    data.previousStartsAt = event.previous.startsAt
    data.previousEndsAt = event.previous.endsAt
  }
  return {
    id: options.id,
    userId: event.userId,
    reservationId: event.reservationId,
    kind: event.change,
    message: options.message.slice(0, 500),
    createdAt: options.createdAt,
    data,
  }
}
