import { Elysia } from 'elysia'
import { ApiError, unauthorized } from '../errors.ts'
import type { StreamTickets } from './stream-ticket.ts'
import type { TokenVerifier } from './verifier.ts'

export interface AuthOptions {
  tokens: TokenVerifier
}

export interface StreamAuthOptions extends AuthOptions {
  tickets: StreamTickets
}

/** Who a request is, and when its credential stops being accepted (ms since the epoch). */
export type Principal = { userId: string, expiresAtMs: number }

/**
 * The user of a request's `Authorization: Bearer <JWT>`; a 401 ApiError when it is missing or
 * invalid, a 503 when the identity provider's keys could not be loaded to check it. A token is
 * accepted until `exp` plus the verifier's clock skew: that is when it expires here.
 */
export async function principalOf (authorization: string | undefined, o: AuthOptions): Promise<Principal> {
  if (!authorization) throw unauthorized()
  const m = /^Bearer[ ]+([A-Za-z0-9_.-]+)[ ]*$/i.exec(authorization)
  if (!m) throw unauthorized('the Authorization header must be "Bearer <token>"')
  const r = await o.tokens.verify(m[1]!)
  if (!r.ok) {
    if ('unavailable' in r) throw new ApiError(503, 'keys_unavailable', 'the keys to check tokens cannot be loaded now; retry later', [], 5)
    throw unauthorized(`invalid token: ${r.reason}`)
  }
  return { userId: r.userId, expiresAtMs: (r.exp + o.tokens.skewS) * 1000 }
}

export async function userOf (authorization: string | undefined, o: AuthOptions): Promise<string> {
  return (await principalOf(authorization, o)).userId
}

/**
 * The user of a notification stream request: its bearer token, or else its `?ticket=` (for
 * clients that cannot set headers). A ticket opens this stream only. The stream ends when the
 * token or ticket expires.
 */
export async function streamPrincipalOf (authorization: string | undefined, ticket: unknown, o: StreamAuthOptions): Promise<Principal> {
  if (authorization !== undefined || ticket === undefined) return principalOf(authorization, o)
  const r = typeof ticket === 'string' ? o.tickets.verify(ticket) : { ok: false as const, reason: 'one ticket expected' }
  if (!r.ok) throw unauthorized(`invalid stream ticket: ${r.reason}`)
  return { userId: r.userId, expiresAtMs: r.exp * 1000 }
}

/**
 * User authentication for a controller: `.use(auth(o))` gives its handlers `userId`. It runs as a
 * derive (before body validation), so an unauthenticated request learns nothing about the schema.
 * Scoped: it applies to the controller that uses it, not to its siblings.
 */
export function auth (o: AuthOptions) {
  // No plugin name: a named plugin is deduplicated, and the second controller would lose its derive.
  return new Elysia()
    .derive({ as: 'scoped' }, async ({ headers }) => ({ userId: await userOf(headers.authorization, o) }))
}

/** OpenAPI: the security requirement of every user route. */
export const bearer = { security: [{ bearer: [] }] }
