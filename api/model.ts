import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Id } from '../shared/schemas/ids.ts'
import { LIMIT_CODES, LIMITS } from '../shared/domain/limits.ts'
import { ErrorBody } from './errors.ts'

/** API-only shapes shared by several controllers (bodies and views live in shared/schemas). */

export const Accepted = Type.Object({
  id: Type.String({ description: 'id of the resource the command created or changes' }),
  status: Type.Literal('accepted')
}, { additionalProperties: false, description: 'Kafka has the command (acks=all); the read model shows it once the updater applied it' })
export type Accepted = Static<typeof Accepted>

export const accepted = (id: string): Accepted => ({ id, status: 'accepted' })

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false })

/** Idempotency-Key: printable ASCII, bounded; other headers pass. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$', description: 'makes a retried create return the same id and produce nothing new (kept 24 h)' }))
})

/** Opaque pagination cursor (base64url) and page size. */
export const PageQuery = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' })),
  limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]?|100)$', description: 'page size, 1 to 100 (default 50)' }))
}, { additionalProperties: false })

/** Error responses of a route, for OpenAPI. */
export function errors<const S extends readonly number[]> (...statuses: S): { [K in S[number]]: typeof ErrorBody } {
  return Object.fromEntries(statuses.map(s => [s, ErrorBody])) as { [K in S[number]]: typeof ErrorBody }
}

/**
 * The 422 of a route that refuses requests past limits (shared/domain/limits.ts): the same error
 * shape, described with each limit's code and value (OpenAPI). Spread after `errors(...)`.
 */
export function limitErrors (...limits: Array<keyof typeof LIMITS>): { 422: typeof ErrorBody } {
  const codes = limits.map(l => `\`${LIMIT_CODES[l]}\` (${l}: ${LIMITS[l]})`).join(', ')
  return { 422: Type.Object(ErrorBody.properties, { additionalProperties: false, description: `Invalid input (\`validation_failed\`), or a limit reached: ${codes}` }) }
}

/**
 * The same schema (same JSON, same validation) with its static type spelled out. Elysia's type
 * inference cannot read unions built from arrays (`Type.Union(LIST.map(Type.Literal))`, as
 * shared/schemas does) and then rejects every handler's return type; this erases the inference
 * problem, not the schema.
 */
export const typed = <S extends TSchema>(schema: S) => Type.Unsafe<Static<S>>(schema)
