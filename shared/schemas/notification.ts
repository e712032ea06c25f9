import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { decodeWith, encodeWith } from './codec.ts'
import { Id, TripId, UserId } from './ids.ts'
import { StatusChange, ReservationStatus } from './status-event.ts'
import { IsoDateTime } from './times.ts'

/**
 * Notification, topic "notifications" (live streams) and `NOTIF#<id>` items.
 *
 * Wire format: Kafka key = `userId`, value = UTF-8 JSON of Notification.
 * `id` is time-ordered (sorts as the NOTIF# sort key), `createdAt` epoch ms,
 * `kind` the status change it reports, `message` human text in the user's
 * language, `data` the machine-readable facts behind it.
 */
export const NotificationData = Type.Object(
  {
    tripId: TripId,
    seq: Type.Integer({ minimum: 0 }),
    status: ReservationStatus,
    title: Type.String({ maxLength: 200 }),
    startsAt: IsoDateTime,
    endsAt: IsoDateTime,
    previousStartsAt: Type.Optional(IsoDateTime),
    previousEndsAt: Type.Optional(IsoDateTime),
  },
  { additionalProperties: false },
)
export type NotificationData = Static<typeof NotificationData>

export const Notification = Type.Object(
  {
    id: Id,
    userId: UserId,
    reservationId: Id,
    kind: StatusChange,
    message: Type.String({ maxLength: 500 }),
    createdAt: Type.Integer({ minimum: 0 }),
    data: NotificationData,
  },
  { additionalProperties: false },
)
export type Notification = Static<typeof Notification>

export const NotificationCheck = TypeCompiler.Compile(Notification)

export type DecodedNotification = { ok: true; notification: Notification } | { ok: false; reason: string }

export function decodeNotification(input: Uint8Array | string): DecodedNotification {
  const d = decodeWith(NotificationCheck, input)
  return d.ok ? { ok: true, notification: d.value } : d
}

export function encodeNotification(notification: Notification): string {
  return encodeWith('notification', NotificationCheck, notification)
}
