import { Elysia, ValidationError } from 'elysia'
import { Type, type Static } from '@sinclair/typebox'
import { LIMIT_CODES, LIMITS } from '../shared/domain/limits.ts'
import { KafkaAdapterError } from '../shared/kafka/errors.ts'
import { type Logger } from '../shared/log/logger.ts'
import { StoreUnavailableError } from './store.ts'

/**
 * The one error shape every non-2xx answer has:
 *   { "error": { "code": "<from ERROR_CODES>", "message": "<human text>", "details": [{ field, code, message }] } }
 * `field` names the offending input as `<where>.<path>` (`body.places.0.name`, `params.id`,
 * `headers.idempotency-key`, `query.cursor`).
 */
export const ERROR_CODES = [
  'bad_request', 'malformed_json', 'unauthorized', 'forbidden', 'not_found', 'conflict',
  'payload_too_large', 'validation_failed', 'idempotency_key_reused', 'idempotency_in_progress',
  'kafka_unavailable', 'dynamodb_unavailable', 'keys_unavailable', 'internal',
  // admission control (api/admission): 429 past a rate limit, 503 when the process has no stream room, 408 for a body sent too slowly
  'rate_limited', 'streams_full', 'request_timeout',
  // 422: a limit of shared/domain/limits.ts (the fold rejects with the same codes)
  LIMIT_CODES.reservationsPerTrip, LIMIT_CODES.activeReservationsPerUser, LIMIT_CODES.tripsPerUser, LIMIT_CODES.sharesPerTrip
] as const
export type ErrorCode = typeof ERROR_CODES[number]

export const ErrorDetail = Type.Object({
  field: Type.String(),
  code: Type.String(),
  message: Type.String()
}, { additionalProperties: false })
export type ErrorDetail = Static<typeof ErrorDetail>

/** Response schema of every error (OpenAPI). */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.Union(ERROR_CODES.map(c => Type.Literal(c))),
    message: Type.String(),
    details: Type.Array(ErrorDetail)
  }, { additionalProperties: false })
}, { additionalProperties: false })
export type ErrorBody = Static<typeof ErrorBody>

/** An HTTP error: the only errors that carry a status. `retryAfterS` becomes a Retry-After header. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: ErrorCode, message: string,
    readonly details: ErrorDetail[] = [], readonly retryAfterS?: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ApiError'
  }
}

export const notFound = (what = 'resource') => new ApiError(404, 'not_found', `${what} not found`)
export const unauthorized = (message = 'a valid bearer token is required') => new ApiError(401, 'unauthorized', message)
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message)
export const conflict = (message: string, code: string, field: string) => new ApiError(409, 'conflict', message, [{ field, code, message }])
/** A 422 naming one field, for rules a schema cannot say (times order, known time zone, ...). */
export const invalidField = (field: string, code: string, message: string) =>
  new ApiError(422, 'validation_failed', message, [{ field, code, message }])
/** A 422 for a request that would break a limit: the limit's code, a message naming it and its value. */
export const limitReached = (limit: keyof typeof LIMITS, field: string, what: string) => {
  const message = `${what}: the limit ${limit} is ${LIMITS[limit]}`
  return new ApiError(422, LIMIT_CODES[limit], message, [{ field, code: LIMIT_CODES[limit], message }])
}

export function errorBody (code: ErrorCode, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details } }
}

const MAX_DETAILS = 10

/** Elysia's validation error as details naming each field (bounded, first errors first). */
export function validationDetails (err: ValidationError): ErrorDetail[] {
  const where = err.type === 'header' ? 'headers' : err.type
  const out: ErrorDetail[] = []
  const seen = new Set<string>()
  for (const e of err.all) {
    const path = 'path' in e && typeof e.path === 'string' ? e.path : ''
    const field = [where, ...path.split('/').filter(Boolean)].join('.')
    const message = ('summary' in e && typeof e.summary === 'string' && e.summary) || e.message
    const key = `${field}:${message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ field, code: 'schema', message: String(message).slice(0, 300) })
    if (out.length >= MAX_DETAILS) break
  }
  if (out.length === 0) out.push({ field: where, code: 'schema', message: 'does not match the schema' })
  return out
}

/**
 * Maps every error to the error shape and a status: validation 422, malformed JSON 400, unknown
 * route 404, Kafka unable to take a command 503 + Retry-After, DynamoDB unreachable 503 +
 * Retry-After, an ApiError its own status; anything else is a bug: 500, logged with its stack.
 */
export function errorHandling (log: Logger) {
  return new Elysia({ name: 'errors' })
    .onError({ as: 'global' }, ({ code, error: thrown, set, request, route }) => {
      let error: unknown = thrown
      set.headers['content-type'] = 'application/json'
      const answer = (status: number, body: ErrorBody, retryAfterS?: number) => {
        set.status = status
        if (retryAfterS !== undefined) set.headers['retry-after'] = String(retryAfterS)
        return body
      }
      // An ApiError thrown inside a parse hook (the agency signature check) arrives wrapped.
      if (code === 'PARSE' && (error as Error).cause instanceof ApiError) error = (error as Error).cause as ApiError
      if (error instanceof ApiError) return answer(error.status, errorBody(error.code, error.message, error.details), error.retryAfterS)
      if (code === 'VALIDATION' || error instanceof ValidationError) {
        const details = validationDetails(error as ValidationError)
        return answer(422, errorBody('validation_failed', `invalid ${details[0]!.field}: ${details[0]!.message}`, details))
      }
      if (code === 'PARSE') return answer(400, errorBody('malformed_json', 'the request body is not valid JSON'))
      if (code === 'NOT_FOUND') return answer(404, errorBody('not_found', 'no such route'))
      if (error instanceof KafkaAdapterError) {
        log.warn('api_produce_failed', { route, error })
        return answer(503, errorBody('kafka_unavailable', 'the command could not be accepted now; retry later'), 1)
      }
      if (error instanceof StoreUnavailableError) {
        log.warn('api_dynamodb_unavailable', { route, error })
        return answer(503, errorBody('dynamodb_unavailable', 'the data store is unavailable; retry later'), 1)
      }
      if (code === 'INVALID_COOKIE_SIGNATURE' || code === 'INVALID_FILE_TYPE') return answer(400, errorBody('bad_request', String((error as Error).message)))
      log.error('api_internal_error', { method: request.method, route, error: error as Error, stack: (error as Error)?.stack })
      return answer(500, errorBody('internal', 'internal error'))
    })
}
