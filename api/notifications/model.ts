import { Type } from '@sinclair/typebox'
import { Notification } from '../../shared/schemas/notification.ts'
import { TICKET_PATTERN } from '../auth/stream-ticket.ts'

/** A notification as its user reads it (no userId: it is theirs). */
export const NotificationView = Type.Object({
  ...Type.Omit(Notification, ['userId']).properties,
  read: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

export const NotificationList = Type.Object({
  items: Type.Array(NotificationView),
  cursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for older ones; null on the last page' })
}, { additionalProperties: false })

const NotificationId = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'resume after this notification id' })

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(NotificationId)
})

export const StreamQuery = Type.Object({
  ticket: Type.Optional(Type.String({ pattern: TICKET_PATTERN, description: 'a stream ticket, instead of the Authorization header' })),
  lastEventId: Type.Optional(NotificationId)
}, { additionalProperties: false })

export const StreamTicket = Type.Object({
  ticket: Type.String({ description: 'pass as ?ticket= to GET /v1/notifications/stream' }),
  expiresAt: Type.String({ format: 'date-time', description: 'the stream must be opened before then, and ends then (reconnect with a new ticket and lastEventId)' })
}, { additionalProperties: false })
