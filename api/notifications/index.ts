import { Elysia } from 'elysia'
import { auth, bearer, streamPrincipalOf, type StreamAuthOptions } from '../auth/index.ts'
import { errors, PageQuery, typed } from '../model.ts'
import { NotificationList, StreamHeaders, StreamQuery, StreamTicket } from './model.ts'
import { type NotificationService } from './service.ts'

const prefix = '/v1/notifications'

export function notifications (service: NotificationService, o: StreamAuthOptions) {
  const withBearer = new Elysia({ normalize: false, prefix })
    .use(auth(o))
    .get('', ({ userId, query }) => service.list({ userId, cursor: query.cursor, limit: Number(query.limit ?? 50) }), {
      query: PageQuery,
      response: { 200: typed(NotificationList), ...errors(401, 422, 503) },
      detail: { tags: ['notifications'], summary: 'My notifications, newest first', ...bearer }
    })
    .post('/stream-tickets', ({ userId, set }) => {
      set.status = 201
      return o.tickets.issue(userId)
    }, {
      response: { 201: StreamTicket, ...errors(401, 503) },
      detail: { tags: ['notifications'], summary: 'A short-lived ticket that opens my notification stream (for EventSource, which cannot send headers)', ...bearer }
    })
  // The stream also takes a ticket in the query: a browser's EventSource cannot set Authorization.
  const stream = new Elysia({ normalize: false, prefix })
    .derive(async ({ headers, query }) => streamPrincipalOf(headers.authorization, query.ticket, o))
    .get('/stream', ({ userId, expiresAtMs, headers, query, request }) => service.stream({ userId, expiresAtMs, lastEventId: headers['last-event-id'] ?? query.lastEventId, signal: request.signal }), {
      headers: StreamHeaders,
      query: StreamQuery,
      detail: {
        tags: ['notifications'],
        summary: 'Live notifications (Server-Sent Events; Last-Event-ID resumes from the stored ones)',
        description: 'Authenticated by a bearer token, or by `?ticket=` from POST /v1/notifications/stream-tickets. `?lastEventId=` stands for the Last-Event-ID header when a client opens a new stream itself. The stream ends when its token or ticket expires (an `expired` event first): open a new one with a fresh credential and lastEventId. A process with no room for another stream answers 503 `streams_full` with Retry-After.',
        ...bearer,
        responses: { 200: { description: 'text/event-stream: `id`, `event: notification`, `data: <notification JSON>`; `: heartbeat` comments', content: { 'text/event-stream': { schema: { type: 'string' } } } } }
      }
    })
  return new Elysia().use(withBearer).use(stream)
}
