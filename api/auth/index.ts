import { Elysia } from 'elysia'
import { unauthorized } from '../errors.ts'
import { verifyJwt } from './jwt.ts'

export interface AuthOptions {
  /** HS256 secret of user tokens. */
  jwtSecret: string
}

/** The user id of a request's `Authorization: Bearer <JWT>`, or a 401 ApiError. */
export function userOf (authorization: string | undefined, o: AuthOptions): string {
  if (!authorization) throw unauthorized()
  const m = /^Bearer[ ]+([A-Za-z0-9_.-]+)[ ]*$/i.exec(authorization)
  if (!m) throw unauthorized('the Authorization header must be "Bearer <token>"')
  const r = verifyJwt(o.jwtSecret, m[1]!)
  if (!r.ok) throw unauthorized(`invalid token: ${r.reason}`)
  return r.userId
}

/**
 * User authentication for a controller: `.use(auth(o))` gives its handlers `userId`. It runs as a
 * derive (before body validation), so an unauthenticated request learns nothing about the schema.
 * Scoped: it applies to the controller that uses it, not to its siblings.
 */
export function auth (o: AuthOptions) {
  // No plugin name: a named plugin is deduplicated, and the second controller would lose its derive.
  return new Elysia()
    .derive({ as: 'scoped' }, ({ headers }) => ({ userId: userOf(headers.authorization, o) }))
}

/** OpenAPI: the security requirement of every user route. */
export const bearer = { security: [{ bearer: [] }] }
