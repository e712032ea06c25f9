import { Elysia } from 'elysia'
import { ReservationCreateBody, ReservationPatchBody } from '../../shared/schemas/reservation.ts'
import { auth, bearer, type AuthOptions } from '../auth/index.ts'
import { Accepted, accepted, errors, IdempotencyHeaders, IdParams, limitErrors, typed } from '../model.ts'
import { ReservationRead } from './model.ts'
import { type ReservationService } from './service.ts'

const detail = (summary: string) => ({ tags: ['reservations'], summary, ...bearer })

export function reservations (service: ReservationService, o: AuthOptions) {
  return new Elysia({ normalize: false, prefix: '/v1/reservations' })
    .use(auth(o))
    .post('', async ({ userId, body, headers, set }) => {
      const { id, replayed } = await service.create({ userId, body, idempotencyKey: headers['idempotency-key'] })
      set.status = 202
      set.headers.location = `/v1/reservations/${id}`
      if (replayed) set.headers['idempotent-replayed'] = 'true'
      return accepted(id)
    }, {
      body: ReservationCreateBody,
      headers: IdempotencyHeaders,
      response: { 202: Accepted, ...errors(400, 401, 409, 413, 422, 503), ...limitErrors('reservationsPerTrip', 'activeReservationsPerUser') },
      detail: detail('Create a reservation (without tripId: the Unassigned trip)')
    })
    .get('/:id', ({ userId, params }) => service.get({ userId, id: params.id }), {
      params: IdParams,
      response: { 200: typed(ReservationRead), ...errors(401, 404, 422, 503) },
      detail: detail('A reservation (grantees with dates-and-places see the itinerary only)')
    })
    .patch('/:id', async ({ userId, params, body, set }) => {
      await service.update({ userId, id: params.id, patch: body })
      set.status = 202
      return accepted(params.id)
    }, {
      params: IdParams,
      body: ReservationPatchBody,
      response: { 202: Accepted, ...errors(400, 401, 403, 404, 413, 422, 503), ...limitErrors('reservationsPerTrip') },
      detail: detail('Change a reservation (null clears an optional field)')
    })
    .delete('/:id', async ({ userId, params, set }) => {
      await service.remove({ userId, id: params.id })
      set.status = 202
      return accepted(params.id)
    }, {
      params: IdParams,
      response: { 202: Accepted, ...errors(401, 403, 404, 422, 503) },
      detail: detail('Remove a reservation (its status becomes "removed")')
    })
}
