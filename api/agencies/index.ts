import { Elysia } from 'elysia'
import { Type } from '@sinclair/typebox'
import { AgencyId } from '../../shared/schemas/ids.ts'
import { AgencyUpdateBody } from '../../shared/schemas/reservation.ts'
import { ApiError } from '../errors.ts'
import { Accepted, accepted, errors } from '../model.ts'
import { checkSignature, SIGNATURE_MESSAGES } from './signature.ts'
import { type AgencyService } from './service.ts'

export interface AgencyOptions {
  /** Agency id → HMAC secret (AGENCY_SECRETS), as a Map: a path segment never reaches a prototype. */
  secrets: ReadonlyMap<string, string>
  /** AGENCY_SIGNATURE_TOLERANCE_S. */
  toleranceS: number
  /** AGENCY_LEGACY_SIGNATURE. */
  allowLegacy: boolean
}

/**
 * POST /v1/agencies/:agencyId/updates, authenticated by the request's signature (signature.ts: the
 * wire format is described there), not by a user token. The signature is checked in the parse step,
 * on the raw bytes, before JSON is parsed or validated: an unsigned caller gets 401 (code
 * `unauthorized`, the reason in details[0].code: missing_signature, malformed_signature,
 * bad_signature, signature_expired, legacy_signature_refused) and learns nothing of the schema.
 * An unknown agency is 401 bad_signature too. A repeated updateId is 202 with the same body and the
 * header `Idempotent-Replayed: true`, producing nothing (dedupe.ts).
 */
export function agencies (service: AgencyService, o: AgencyOptions) {
  return new Elysia({ normalize: false, prefix: '/v1/agencies' })
    .post('/:agencyId/updates', async ({ params, body, set }) => {
      const { reservationId, replayed } = await service.update({ agencyId: params.agencyId, body })
      set.status = 202
      if (replayed) set.headers['idempotent-replayed'] = 'true'
      return accepted(reservationId)
    }, {
      parse: async ({ request, params }) => {
        const raw = new Uint8Array(await request.arrayBuffer())
        const agencyId = (params as Record<string, string> | undefined)?.agencyId ?? ''
        const check = checkSignature(o.secrets.get(agencyId), { method: request.method, path: new URL(request.url).pathname, body: raw },
          request.headers.get('x-signature'), { toleranceS: o.toleranceS, allowLegacy: o.allowLegacy })
        if (!check.ok) {
          throw new ApiError(401, 'unauthorized', SIGNATURE_MESSAGES[check.reason],
            [{ field: 'headers.x-signature', code: check.reason, message: SIGNATURE_MESSAGES[check.reason] }])
        }
        try {
          return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown
        } catch {
          throw new ApiError(400, 'malformed_json', 'the request body is not valid JSON')
        }
      },
      params: Type.Object({ agencyId: AgencyId }, { additionalProperties: false }),
      headers: Type.Object({ 'x-signature': Type.String({ description: 't=<unix seconds>,v1=<hex HMAC-SHA256 with the agency secret of "<t>.<METHOD>.<path>.<raw body>">' }) }),
      body: AgencyUpdateBody,
      response: { 202: Accepted, ...errors(400, 401, 404, 409, 413, 422, 503) },
      detail: { tags: ['agencies'], summary: 'A travel agency reports a change to a reservation booked through it (HMAC-signed time, route and body; deduplicated by updateId)' }
    })
}
