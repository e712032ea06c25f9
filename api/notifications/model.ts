import { Type } from '@sinclair/typebox'
import { Notification } from '../../shared/schemas/notification.ts'

/** A notification as its user reads it (no userId: it is theirs). */
export const NotificationView = Type.Object({
  ...Type.Omit(Notification, ['userId']).properties,
  read: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

export const NotificationList = Type.Object({
  items: Type.Array(NotificationView),
  cursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for older ones; null on the last page' })
}, { additionalProperties: false })

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'resume after this notification id' }))
})
