import { Elysia } from 'elysia'
import { Type } from '@sinclair/typebox'
import { AgencyId } from '../../shared/schemas/ids.ts'
import { AgencyUpdateBody } from '../../shared/schemas/reservation.ts'
import { ApiError, unauthorized } from '../errors.ts'
import { Accepted, accepted, errors } from '../model.ts'
import { validSignature } from './signature.ts'
import { type AgencyService } from './service.ts'

export interface AgencyOptions {
  /** Agency id → HMAC secret (AGENCY_SECRETS). */
  secrets: Record<string, string>
}

/**
 * POST /v1/agencies/:agencyId/updates, authenticated by the body's signature (signature.ts), not
 * by a user token. The signature is checked in the parse step, on the raw bytes, before JSON is
 * parsed or validated: an unsigned caller gets 401 and learns nothing of the schema. An unknown
 * agency is 401 too.
 */
export function agencies (service: AgencyService, o: AgencyOptions) {
  return new Elysia({ normalize: false, prefix: '/v1/agencies' })
    .post('/:agencyId/updates', async ({ params, body, set }) => {
      const { reservationId } = await service.update({ agencyId: params.agencyId, body })
      set.status = 202
      return accepted(reservationId)
    }, {
      parse: async ({ request, params }) => {
        const raw = new Uint8Array(await request.arrayBuffer())
        const agencyId = (params as Record<string, string> | undefined)?.agencyId ?? ''
        const secret = Object.hasOwn(o.secrets, agencyId) ? o.secrets[agencyId] : undefined
        if (!validSignature(secret, raw, request.headers.get('x-signature'))) throw unauthorized('missing or bad X-Signature')
        try {
          return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown
        } catch {
          throw new ApiError(400, 'malformed_json', 'the request body is not valid JSON')
        }
      },
      params: Type.Object({ agencyId: AgencyId }, { additionalProperties: false }),
      headers: Type.Object({ 'x-signature': Type.String({ description: 'sha256=<hex HMAC-SHA256 of the raw body with the agency secret>' }) }),
      body: AgencyUpdateBody,
      response: { 202: Accepted, ...errors(400, 401, 404, 413, 422, 503) },
      detail: { tags: ['agencies'], summary: 'A travel agency reports a change to a reservation booked through it (HMAC-signed body)' }
    })
}
