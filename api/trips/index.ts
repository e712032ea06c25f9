import { Elysia } from 'elysia'
import { SharePutBody, TripCreateBody, TripPatchBody } from '../../shared/schemas/trip.ts'
import { auth, bearer, type AuthOptions } from '../auth/index.ts'
import { Accepted, accepted, errors, IdempotencyHeaders, limitErrors, PageQuery, typed } from '../model.ts'
import { ShareParams, TripDashboard, TripList, TripParams } from './model.ts'
import { type TripService } from './service.ts'

const detail = (summary: string, tag = 'trips') => ({ tags: [tag], summary, ...bearer })

export function trips (service: TripService, o: AuthOptions) {
  return new Elysia({ normalize: false, prefix: '/v1/trips' })
    .use(auth(o))
    .post('', async ({ userId, body, headers, set }) => {
      const { id, replayed } = await service.create({ userId, body, idempotencyKey: headers['idempotency-key'] })
      set.status = 202
      set.headers.location = `/v1/trips/${id}`
      if (replayed) set.headers['idempotent-replayed'] = 'true'
      return accepted(id)
    }, {
      body: TripCreateBody,
      headers: IdempotencyHeaders,
      response: { 202: Accepted, ...errors(400, 401, 409, 413, 422, 503), ...limitErrors('tripsPerUser') },
      detail: detail('Create a trip')
    })
    .get('', ({ userId, query }) => service.list({ userId, cursor: query.cursor, limit: Number(query.limit ?? 50) }), {
      query: PageQuery,
      response: { 200: typed(TripList), ...errors(401, 422, 503) },
      detail: detail('Trips I own, then trips shared with me (paginated)')
    })
    .get('/:id', ({ userId, params }) => service.get({ userId, id: params.id }), {
      params: TripParams,
      response: { 200: typed(TripDashboard), ...errors(401, 404, 422, 503) },
      detail: detail('A trip with its reservations ordered by start time')
    })
    .patch('/:id', async ({ userId, params, body, set }) => {
      await service.update({ userId, id: params.id, patch: body })
      set.status = 202
      return accepted(params.id)
    }, {
      params: TripParams,
      body: TripPatchBody,
      response: { 202: Accepted, ...errors(400, 401, 403, 404, 409, 413, 422, 503) },
      detail: detail('Rename a trip or change its notes')
    })
    .delete('/:id', async ({ userId, params, set }) => {
      await service.remove({ userId, id: params.id })
      set.status = 202
      return accepted(params.id)
    }, {
      params: TripParams,
      response: { 202: Accepted, ...errors(401, 403, 404, 409, 422, 503), ...limitErrors('reservationsPerTrip') },
      detail: detail('Remove a trip (its reservations move to Unassigned)')
    })
    .put('/:id/shares/:userId', async ({ userId, params, body, set }) => {
      await service.share({ userId, id: params.id, granteeId: params.userId, role: body.role })
      set.status = 202
      return accepted(params.id)
    }, {
      params: ShareParams,
      body: SharePutBody,
      response: { 202: Accepted, ...errors(400, 401, 403, 404, 409, 413, 422, 503), ...limitErrors('sharesPerTrip') },
      detail: detail('Share a trip with a user (full, or dates-and-places only)', 'shares')
    })
    .delete('/:id/shares/:userId', async ({ userId, params, set }) => {
      await service.unshare({ userId, id: params.id, granteeId: params.userId })
      set.status = 202
      return accepted(params.id)
    }, {
      params: ShareParams,
      response: { 202: Accepted, ...errors(401, 403, 404, 409, 422, 503) },
      detail: detail('Stop sharing a trip with a user', 'shares')
    })
}
