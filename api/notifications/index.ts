import { Elysia } from 'elysia'
import { auth, bearer, type AuthOptions } from '../auth/index.ts'
import { errors, PageQuery, typed } from '../model.ts'
import { NotificationList, StreamHeaders } from './model.ts'
import { type NotificationService } from './service.ts'

export function notifications (service: NotificationService, o: AuthOptions) {
  return new Elysia({ normalize: false, prefix: '/v1/notifications' })
    .use(auth(o))
    .get('', ({ userId, query }) => service.list({ userId, cursor: query.cursor, limit: Number(query.limit ?? 50) }), {
      query: PageQuery,
      response: { 200: typed(NotificationList), ...errors(401, 422, 503) },
      detail: { tags: ['notifications'], summary: 'My notifications, newest first', ...bearer }
    })
    .get('/stream', ({ userId, headers, request }) => service.stream({ userId, lastEventId: headers['last-event-id'], signal: request.signal }), {
      headers: StreamHeaders,
      detail: {
        tags: ['notifications'],
        summary: 'Live notifications (Server-Sent Events; Last-Event-ID resumes from the stored ones)',
        ...bearer,
        responses: { 200: { description: 'text/event-stream: `id`, `event: notification`, `data: <notification JSON>`; `: heartbeat` comments', content: { 'text/event-stream': { schema: { type: 'string' } } } } }
      }
    })
}
